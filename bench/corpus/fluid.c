// Floating-point simulation: a 2D incompressible fluid on an N×N grid (Stam's stable fluids:
// diffusion and pressure projection by Gauss-Seidel relaxation, semi-Lagrangian advection with
// bilinear interpolation, fixed boundaries) in single precision, plus heat diffusion with an
// explicit f64 stencil and a small particle system advected through the velocity field.
// Prints mass, energy and particle checksums (exact: the same IEEE operations everywhere).
//
//   fluid [STEPS=20]   time steps on a 96×96 grid; tests use 2
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 96
#define SIZE ((N + 2) * (N + 2))
#define IX(i, j) ((i) + (N + 2) * (j))
#define ITER 20

static void set_bnd(int b, float *x) {
  for (int i = 1; i <= N; i++) {
    x[IX(0, i)] = b == 1 ? -x[IX(1, i)] : x[IX(1, i)];
    x[IX(N + 1, i)] = b == 1 ? -x[IX(N, i)] : x[IX(N, i)];
    x[IX(i, 0)] = b == 2 ? -x[IX(i, 1)] : x[IX(i, 1)];
    x[IX(i, N + 1)] = b == 2 ? -x[IX(i, N)] : x[IX(i, N)];
  }
  x[IX(0, 0)] = 0.5f * (x[IX(1, 0)] + x[IX(0, 1)]);
  x[IX(0, N + 1)] = 0.5f * (x[IX(1, N + 1)] + x[IX(0, N)]);
  x[IX(N + 1, 0)] = 0.5f * (x[IX(N, 0)] + x[IX(N + 1, 1)]);
  x[IX(N + 1, N + 1)] = 0.5f * (x[IX(N, N + 1)] + x[IX(N + 1, N)]);
}

static void lin_solve(int b, float *x, const float *x0, float a, float c) {
  float inv = 1.0f / c;
  for (int k = 0; k < ITER; k++) {
    for (int j = 1; j <= N; j++)
      for (int i = 1; i <= N; i++)
        x[IX(i, j)] = (x0[IX(i, j)] + a * (x[IX(i - 1, j)] + x[IX(i + 1, j)] + x[IX(i, j - 1)] + x[IX(i, j + 1)])) * inv;
    set_bnd(b, x);
  }
}

static void diffuse(int b, float *x, const float *x0, float diff, float dt) {
  float a = dt * diff * N * N;
  lin_solve(b, x, x0, a, 1 + 4 * a);
}

static void advect(int b, float *d, const float *d0, const float *u, const float *v, float dt) {
  float dt0 = dt * N;
  for (int j = 1; j <= N; j++) {
    for (int i = 1; i <= N; i++) {
      float x = (float)i - dt0 * u[IX(i, j)], y = (float)j - dt0 * v[IX(i, j)];
      x = fminf(fmaxf(x, 0.5f), N + 0.5f);
      y = fminf(fmaxf(y, 0.5f), N + 0.5f);
      int i0 = (int)x, j0 = (int)y;
      float s1 = x - (float)i0, s0 = 1 - s1, t1 = y - (float)j0, t0 = 1 - t1;
      d[IX(i, j)] = s0 * (t0 * d0[IX(i0, j0)] + t1 * d0[IX(i0, j0 + 1)]) + s1 * (t0 * d0[IX(i0 + 1, j0)] + t1 * d0[IX(i0 + 1, j0 + 1)]);
    }
  }
  set_bnd(b, d);
}

static void project(float *u, float *v, float *p, float *div) {
  for (int j = 1; j <= N; j++)
    for (int i = 1; i <= N; i++) {
      div[IX(i, j)] = -0.5f * (u[IX(i + 1, j)] - u[IX(i - 1, j)] + v[IX(i, j + 1)] - v[IX(i, j - 1)]) / N;
      p[IX(i, j)] = 0;
    }
  set_bnd(0, div);
  set_bnd(0, p);
  lin_solve(0, p, div, 1, 4);
  for (int j = 1; j <= N; j++)
    for (int i = 1; i <= N; i++) {
      u[IX(i, j)] -= 0.5f * N * (p[IX(i + 1, j)] - p[IX(i - 1, j)]);
      v[IX(i, j)] -= 0.5f * N * (p[IX(i, j + 1)] - p[IX(i, j - 1)]);
    }
  set_bnd(1, u);
  set_bnd(2, v);
}

#define SWAP(a, b) do { float *t_ = a; a = b; b = t_; } while (0)

static float *u, *v, *u0, *v0, *dens, *dens0;

static void step(float dt, int t) {
  // Sources: a jet of density and velocity that swings from side to side.
  memset(u0, 0, sizeof(float) * SIZE); memset(v0, 0, sizeof(float) * SIZE); memset(dens0, 0, sizeof(float) * SIZE);
  float angle = 0.6f * sinf((float)t * 0.15f);
  for (int j = N / 2 - 3; j <= N / 2 + 3; j++) {
    dens0[IX(6, j)] = 80.0f;
    u0[IX(6, j)] = 40.0f * cosf(angle);
    v0[IX(6, j)] = 40.0f * sinf(angle);
  }
  for (int k = 0; k < SIZE; k++) { u[k] += dt * u0[k]; v[k] += dt * v0[k]; dens[k] += dt * dens0[k]; }
  SWAP(u0, u); diffuse(1, u, u0, 0.0001f, dt);
  SWAP(v0, v); diffuse(2, v, v0, 0.0001f, dt);
  project(u, v, u0, v0);
  SWAP(u0, u); SWAP(v0, v);
  advect(1, u, u0, u0, v0, dt); advect(2, v, v0, u0, v0, dt);
  project(u, v, u0, v0);
  SWAP(dens0, dens); diffuse(0, dens, dens0, 0.00005f, dt);
  SWAP(dens0, dens); advect(0, dens, dens0, u, v, dt);
}

// Heat: explicit 5-point stencil in f64 on a plate with a hot edge and a cold spot.
static double heat(int steps) {
  enum { H = 64 };
  static double a[H][H], b[H][H];
  memset(a, 0, sizeof a);
  for (int s = 0; s < steps; s++) {
    for (int i = 0; i < H; i++) { a[0][i] = 100.0; a[H - 1][i] = 0.0; a[i][0] = 50.0 * i / H; a[i][H - 1] = 25.0; }
    a[H / 2][H / 3] = -40.0;
    for (int i = 1; i < H - 1; i++)
      for (int j = 1; j < H - 1; j++) b[i][j] = a[i][j] + 0.24 * (a[i - 1][j] + a[i + 1][j] + a[i][j - 1] + a[i][j + 1] - 4 * a[i][j]);
    for (int i = 1; i < H - 1; i++) memcpy(&a[i][1], &b[i][1], sizeof(double) * (H - 2));
  }
  double sum = 0;
  for (int i = 0; i < H; i++) for (int j = 0; j < H; j++) sum += a[i][j] * (1 + (i ^ j) % 3);
  return sum;
}

static uint32_t bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

int main(int argc, char **argv) {
  int steps = argc > 1 ? atoi(argv[1]) : 20;
  if (steps < 1) steps = 1;
  float *all = calloc(6 * SIZE, sizeof(float));
  u = all; v = all + SIZE; u0 = all + 2 * SIZE; v0 = all + 3 * SIZE; dens = all + 4 * SIZE; dens0 = all + 5 * SIZE;
  enum { P = 2000 };
  static float px[P], py[P];
  uint32_t seed = 1;
  for (int k = 0; k < P; k++) {
    seed = seed * 1103515245u + 12345u; px[k] = 1 + (float)(seed >> 8 & 0xFFFF) / 65536.0f * (N - 1);
    seed = seed * 1103515245u + 12345u; py[k] = 1 + (float)(seed >> 8 & 0xFFFF) / 65536.0f * (N - 1);
  }
  const float dt = 0.02f;
  uint32_t trace = 0;
  for (int t = 0; t < steps; t++) {
    step(dt, t);
    // Particles follow the velocity of their cell (forward Euler), clamped to the box.
    for (int k = 0; k < P; k++) {
      int i = (int)px[k], j = (int)py[k];
      px[k] = fminf(fmaxf(px[k] + dt * N * u[IX(i, j)], 1.0f), (float)N);
      py[k] = fminf(fmaxf(py[k] + dt * N * v[IX(i, j)], 1.0f), (float)N);
    }
    if (t % 10 == 9) {
      double mass = 0;
      for (int k = 0; k < SIZE; k++) mass += dens[k];
      printf("step %3d: mass %.4f\n", t + 1, mass);
    }
    trace = trace * 31 + bits(dens[IX(N / 2, N / 2)]);
  }
  double mass = 0, energy = 0, cx = 0, cy = 0;
  for (int j = 1; j <= N; j++)
    for (int i = 1; i <= N; i++) {
      mass += dens[IX(i, j)];
      energy += 0.5 * ((double)u[IX(i, j)] * u[IX(i, j)] + (double)v[IX(i, j)] * v[IX(i, j)]);
    }
  for (int k = 0; k < P; k++) { cx += px[k]; cy += py[k]; }
  printf("mass %.6f energy %.6f centre trace %08x\n", mass, energy, trace);
  printf("particles: centre (%.4f, %.4f)\n", cx / P, cy / P);
  printf("heat: %.6f\n", heat(steps * 10));
  free(all);
  return 0;
}

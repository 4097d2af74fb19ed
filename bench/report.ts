// The host-runtime comparison's report: markdown tables and hand-written SVG charts from the
// measurements of bench/run.ts (no dependencies). Pure functions, so tests/bench can render a
// tiny run.

import type { Mode } from './host.js';
import { MODES } from './host.js';

export interface FixtureResult {
  native: number[];
  vm: Partial<Record<Mode, number[]>>;
  ratio: Partial<Record<Mode, number[]>>;
  na: Partial<Record<Mode, string>>;
}

export interface HostResult {
  id: string;
  label: string;
  /** Fixture → its args, and its measurements or why it could not run. */
  fixtures: { name: string; args: string[]; result: FixtureResult | { error: string } }[];
  /** Mode → kernel → ns per operation, or why the mode could not run; absent if not measured. */
  micro?: Record<string, Record<string, number> | string> | { error: string };
  note?: string;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
export const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const x2 = (v: number) => `${v.toFixed(2)}x`;
const ms1 = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const spread = (xs: number[]) => (xs.length > 1 ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}` : '–');

export const MODE_LABEL: Record<Mode, string> = { none: 'no intrinsics', bulk: 'bulk', float: 'float', memory: 'memory', all: 'all classes', 'bulk+memory': 'bulk + memory' };

function ok(r: FixtureResult | { error: string }): r is FixtureResult {
  return !('error' in r);
}

/** Per fixture of a host: the median ratio of `mode` to native, or null. */
function ratios(h: HostResult, mode: Mode): { fixture: string; ratio: number; native: number; vm: number }[] {
  const out = [];
  for (const f of h.fixtures) {
    if (!ok(f.result)) continue;
    const r = f.result.ratio[mode];
    const v = f.result.vm[mode];
    if (!r || !v || r.length === 0) continue;
    out.push({ fixture: f.name, ratio: median(r), native: median(f.result.native), vm: median(v) });
  }
  return out;
}

/** Per fixture: median over rounds of VM(mode) / VM(none), both from the same round. */
function withWithout(h: HostResult, mode: Mode): { fixture: string; ratio: number; rounds: number[] }[] {
  const out = [];
  for (const f of h.fixtures) {
    if (!ok(f.result)) continue;
    const a = f.result.vm[mode];
    const b = f.result.vm.none;
    if (!a || !b || a.length === 0) continue;
    const rounds = a.map((v, i) => v / b[i]);
    out.push({ fixture: f.name, ratio: median(rounds), rounds });
  }
  return out;
}

function why(h: HostResult, mode: Mode): string {
  for (const f of h.fixtures) {
    if (ok(f.result) && f.result.na[mode]) return f.result.na[mode]!;
    if (!ok(f.result)) return `failed: ${f.result.error}`;
  }
  return 'n/a';
}

export interface Summary {
  host: string;
  id: string;
  native: number;
  vmNone: number;
  ratioNone: number;
  spreadNone: [number, number];
  ratioAll?: number;
  spreadAll?: [number, number];
  vmAll?: number;
}

export function summarize(h: HostResult): Summary | null {
  const none = ratios(h, 'none');
  if (none.length === 0) return null;
  const all = ratios(h, 'all');
  return {
    host: h.label,
    id: h.id,
    native: geomean(none.map((r) => r.native)),
    vmNone: geomean(none.map((r) => r.vm)),
    ratioNone: geomean(none.map((r) => r.ratio)),
    spreadNone: [Math.min(...none.map((r) => r.ratio)), Math.max(...none.map((r) => r.ratio))],
    ...(all.length === none.length
      ? {
          vmAll: geomean(all.map((r) => r.vm)),
          ratioAll: geomean(all.map((r) => r.ratio)),
          spreadAll: [Math.min(...all.map((r) => r.ratio)), Math.max(...all.map((r) => r.ratio))] as [number, number],
        }
      : {}),
  };
}

/** The markdown report. `charts`: host id → SVG file name (beside the report). */
export function renderReport(hosts: HostResult[], meta: { title: string; preamble: string[]; charts: Map<string, string>; microWhat: Map<string, string> }): string[] {
  const L: string[] = [`# ${meta.title}`, '', ...meta.preamble, ''];

  L.push('## Native vs self-hosted, per host', '');
  L.push('Geomean over the fixtures of the per-fixture medians; in parentheses the min–max of the per-fixture ratios.', '');
  L.push('| host | native ms | VM ms (no intrinsics) | VM / native | VM ms (all intrinsics) | VM / native, all intrinsics |', '|---|---:|---:|---:|---:|---:|');
  for (const h of hosts) {
    const s = summarize(h);
    if (!s) {
      L.push(`| ${h.label} | ${why(h, 'none')} | | | | |`);
      continue;
    }
    const all = s.ratioAll !== undefined ? `${x2(s.ratioAll)} (${s.spreadAll![0].toFixed(2)}–${s.spreadAll![1].toFixed(2)})` : why(h, 'all');
    L.push(`| ${s.host} | ${ms1(s.native)} | ${ms1(s.vmNone)} | **${x2(s.ratioNone)}** (${s.spreadNone[0].toFixed(2)}–${s.spreadNone[1].toFixed(2)}) | ${s.vmAll !== undefined ? ms1(s.vmAll) : ''} | ${all} |`);
  }
  L.push('');

  L.push('## Per host', '');
  for (const h of hosts) {
    L.push(`### ${h.label}`, '');
    if (h.note) L.push(h.note, '');
    L.push(`| fixture | args | native ms | ${MODES.map((m) => `${MODE_LABEL[m]}: ms, / native (spread)`).join(' | ')} |`);
    L.push(`|---|---|---:|${MODES.map(() => '---:').join('|')}|`);
    for (const f of h.fixtures) {
      if (!ok(f.result)) {
        L.push(`| ${f.name} | ${f.args.join(' ')} | failed: ${f.result.error.replace(/\|/g, '\\|').slice(0, 200)} |${MODES.map(() => '').join('|')}|`);
        continue;
      }
      const res = f.result;
      const cells = MODES.map((m) => {
        const v = res.vm[m];
        const r = res.ratio[m];
        if (!v || !r || v.length === 0) return res.na[m] ?? 'n/a';
        return `${ms1(median(v))}, ${x2(median(r))} (${spread(r)})`;
      });
      L.push(`| ${f.name} | ${f.args.join(' ')} | ${ms1(median(res.native))} | ${cells.join(' | ')} |`);
    }
    const geo = MODES.map((m) => {
      const r = ratios(h, m);
      return r.length === h.fixtures.length && r.length > 0 ? x2(geomean(r.map((q) => q.ratio))) : '';
    });
    L.push(`| geomean | | | ${geo.join(' | ')} |`);
    if (h.id === 'vm-on-vm') {
      const parts = MODES.filter((m) => m !== 'none').map((m) => {
        const w = withWithout(h, m);
        return w.length ? `${MODE_LABEL[m]} ${x2(1 / geomean(w.map((q) => q.ratio)))} (${w.map((q) => `${q.fixture} ${x2(1 / q.ratio)}`).join(', ')})` : `${MODE_LABEL[m]} ${why(h, m)}`;
      });
      L.push('', `VM-on-VM with intrinsics against without (speed-up: time without / time with, same round, geomean and per fixture): ${parts.join('; ')}.`);
    }
    const chart = meta.charts.get(h.id);
    if (chart) L.push('', `![${h.label}: VM / native per fixture and intrinsics mode](${chart})`);
    L.push('');
  }

  L.push('## Intrinsics: with / without', '');
  L.push('VM time with the class on divided by VM time without intrinsics, from the same round (median of the rounds; < 1 is faster); geomean over the fixtures, then per fixture.', '');
  L.push(`| host | class | geomean with / without | ${hosts[0]?.fixtures.map((f) => f.name).join(' | ') ?? ''} |`);
  L.push(`|---|---|---:|${hosts[0]?.fixtures.map(() => '---:').join('|') ?? ''}|`);
  const paysOff: string[] = [];
  for (const h of hosts) {
    let best: { mode: Mode; g: number } | null = null;
    for (const m of MODES.filter((q) => q !== 'none')) {
      const w = withWithout(h, m);
      if (w.length === 0) {
        L.push(`| ${h.label} | ${MODE_LABEL[m]} | ${why(h, m)} |${h.fixtures.map(() => '').join('|')}|`);
        continue;
      }
      const g = geomean(w.map((q) => q.ratio));
      if (!best || g < best.g) best = { mode: m, g };
      const per = h.fixtures.map((f) => {
        const q = w.find((e) => e.fixture === f.name);
        return q ? `${x2(q.ratio)} (${spread(q.rounds)})` : '';
      });
      L.push(`| ${h.label} | ${MODE_LABEL[m]} | ${x2(g)} | ${per.join(' | ')} |`);
    }
    if (best) {
      const allW = withWithout(h, 'all');
      const gAll = allW.length ? geomean(allW.map((q) => q.ratio)) : NaN;
      // "Pays off": all classes on make the VM faster by more than run-to-run noise (3%).
      const yes = gAll < 0.97;
      paysOff.push(`- pays off on ${h.label}: **${yes ? 'yes' : 'no'}** — all classes ${x2(gAll)} the time without (${x2(1 / gAll)} as fast); best single setting ${MODE_LABEL[best.mode]} ${x2(best.g)}.`);
    } else {
      paysOff.push(`- pays off on ${h.label}: not measured (${why(h, 'all')}).`);
    }
  }
  L.push('', ...paysOff, '');

  const microHosts = hosts.filter((h) => h.micro);
  if (microHosts.length) {
    L.push('## Micro: ns per operation, in the VM against offloaded', '');
    L.push('Each kernel (bench/micro.ts) loops n times over one operation; ns per iteration minus that of the empty loop run just before it (the baseline column: the loop itself), median of the repetitions, with the operation\'s class off (in the VM) and on (offloaded to the intrinsics helper). ≈0: the operation cost no more than the empty loop, within the noise of this run.', '');
    const kernels = [...meta.microWhat.keys()];
    L.push(`| host | setting | ${kernels.join(' | ')} |`, `|---|---|${kernels.map(() => '---:').join('|')}|`);
    L.push(`| | what | ${kernels.map((k) => meta.microWhat.get(k)).join(' | ')} |`);
    for (const h of microHosts) {
      const m = h.micro!;
      if ('error' in m && typeof m.error === 'string') {
        L.push(`| ${h.label} | failed: ${m.error.slice(0, 200)} |${kernels.map(() => '').join('|')}|`);
        continue;
      }
      const micro = m as Record<string, Record<string, number> | string>;
      const none = micro.none;
      // A difference from the empty loop at or below zero is noise, not a negative cost.
      const cell = (v: number | undefined) => (v === undefined ? '' : v <= 0 ? '≈0' : v.toFixed(v < 10 ? 2 : 0));
      L.push(`| ${h.label} | in the VM | ${kernels.map((k) => (typeof none === 'string' ? none : cell(none?.[k]))).join(' | ')} |`);
      const on = kernels.map((k) => {
        const cls = KERNEL_CLASS.get(k);
        if (!cls) {
          const vals = Object.entries(micro).filter(([mode, v]) => mode !== 'none' && typeof v !== 'string').map(([, v]) => (v as Record<string, number>)[k]);
          return vals.length ? `${vals.map((v) => cell(v)).join(' / ')}` : '';
        }
        const r = micro[cls];
        if (r === undefined) return '';
        if (typeof r === 'string') return r;
        const off = typeof none === 'string' ? undefined : none?.[k];
        const v = r[k];
        return off !== undefined && v !== undefined && off > 0 && v > 0 ? `${cell(v)} (${x2(v / off)})` : cell(v);
      });
      L.push(`| ${h.label} | offloaded | ${on.join(' | ')} |`);
    }
    L.push('');
  }
  return L;
}

/** kernel name → class; filled by run.ts from bench/micro.ts (kept here so report.ts stays pure). */
export const KERNEL_CLASS = new Map<string, string>();

const COLORS: Record<Mode, string> = { none: '#4e79a7', bulk: '#f28e2b', float: '#59a14f', memory: '#e15759', all: '#76b7b2', 'bulk+memory': '#b07aa1' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Grouped bars, log scale: per fixture, the VM / native ratio of each mode. Null if nothing ran. */
export function renderChart(h: HostResult): string | null {
  const groups = h.fixtures.filter((f) => ok(f.result)).map((f) => ({ name: f.name, r: f.result as FixtureResult }));
  const bars = groups.map((g) => MODES.map((m) => (g.r.ratio[m]?.length ? median(g.r.ratio[m]!) : null)));
  const values = bars.flat().filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  const W = 760, H = 360, left = 60, right = 150, top = 40, bottom = 50;
  const plotW = W - left - right, plotH = H - top - bottom;
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(1, ...values))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values) * 1.05)));
  const y = (v: number) => top + plotH - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(h.label)}: VM time / native time (log scale)</text>`);
  // Grid: 1, 2, 5 × powers of ten.
  for (let d = lo; d <= hi; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi) break;
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="${k === 1 ? '#bbb' : '#eee'}"/>`);
      out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#555">${v >= 1 ? v : v.toString()}x</text>`);
    }
  }
  const gw = plotW / groups.length;
  const bw = Math.min(22, (gw - 16) / MODES.length);
  groups.forEach((g, i) => {
    const x0 = left + i * gw + (gw - bw * MODES.length) / 2;
    bars[i].forEach((v, j) => {
      if (v === null) return;
      const yy = y(v);
      const base = y(lo);
      out.push(`<rect x="${(x0 + j * bw).toFixed(1)}" y="${yy.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(base - yy).toFixed(1)}" fill="${COLORS[MODES[j]]}"><title>${esc(`${g.name}, ${MODE_LABEL[MODES[j]]}: ${v.toFixed(2)}x`)}</title></rect>`);
      out.push(`<text x="${(x0 + j * bw + bw / 2 - 1).toFixed(1)}" y="${(yy - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${v < 10 ? v.toFixed(1) : v.toFixed(0)}</text>`);
    });
    out.push(`<text x="${(left + i * gw + gw / 2).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${esc(g.name)}</text>`);
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  MODES.forEach((m, j) => {
    const yy = top + 10 + j * 20;
    const measured = bars.some((b) => b[j] !== null);
    out.push(`<rect x="${left + plotW + 16}" y="${yy}" width="12" height="12" fill="${measured ? COLORS[m] : '#ddd'}"/>`);
    out.push(`<text x="${left + plotW + 34}" y="${yy + 10}" fill="${measured ? '#000' : '#999'}">${esc(MODE_LABEL[m])}${measured ? '' : ' (n/a)'}</text>`);
  });
  out.push(`<text x="${left}" y="${H - 10}" fill="#555">median of the per-round ratios; each VM run paired with a native run of the same guest</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

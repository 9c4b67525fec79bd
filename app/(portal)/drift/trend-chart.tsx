import type { DriftTrendDay } from "@/lib/drift/queries.ts";

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 36, right: 12, top: 12, bottom: 24 };

/**
 * The drift trend as inline SVG: bars of findings opened (up) and resolved (down) per day, and a line of the
 * findings still unresolved at the end of each day. A table under it says the same for screen readers.
 */
export function TrendChart({ days }: { days: readonly DriftTrendDay[] }) {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const top = Math.max(1, ...days.map((d) => Math.max(d.open, d.opened, d.resolved)));
  const step = innerW / Math.max(1, days.length);
  const y = (n: number) => PAD.top + innerH - (n / top) * innerH;
  const x = (i: number) => PAD.left + i * step + step / 2;
  const bar = Math.max(1, Math.min(14, step / 2 - 1));
  const line = days.map((d, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(d.open).toFixed(1)}`).join(" ");
  const first = days[0]?.day ?? "";
  const last = days[days.length - 1]?.day ?? "";
  const totals = days.reduce((t, d) => ({ opened: t.opened + d.opened, resolved: t.resolved + d.resolved }), { opened: 0, resolved: 0 });
  return (
    <figure className="panel" data-testid="drift-trend" style={{ margin: "0 0 1.25rem" }}>
      <h2>Trend, last {days.length} days</h2>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" role="img" aria-label={`Unresolved findings per day from ${first} to ${last}; ${totals.opened} opened and ${totals.resolved} resolved in this time.`} style={{ maxWidth: `${WIDTH}px`, display: "block" }}>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} stroke="#c9d1dc" />
        <text x={PAD.left - 6} y={y(top) + 4} textAnchor="end" fontSize="10" fill="#5b6675">
          {top}
        </text>
        <text x={PAD.left - 6} y={y(0) + 4} textAnchor="end" fontSize="10" fill="#5b6675">
          0
        </text>
        {days.map((d, i) => (
          <g key={d.day}>
            <title>{`${d.day}: ${d.opened} opened, ${d.resolved} resolved, ${d.open} unresolved at the end of the day`}</title>
            {d.opened > 0 ? <rect x={x(i) - bar} y={y(d.opened)} width={bar} height={y(0) - y(d.opened)} fill="#e0a03a" /> : null}
            {d.resolved > 0 ? <rect x={x(i)} y={y(d.resolved)} width={bar} height={y(0) - y(d.resolved)} fill="#3c9a5f" /> : null}
          </g>
        ))}
        {days.length > 0 ? <path d={line} fill="none" stroke="#2f5bd3" strokeWidth="2" /> : null}
        <text x={PAD.left} y={HEIGHT - 6} fontSize="10" fill="#5b6675">
          {first}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} fontSize="10" fill="#5b6675" textAnchor="end">
          {last}
        </text>
      </svg>
      <figcaption className="muted small">
        <span style={{ color: "#2f5bd3" }}>■</span> unresolved at the end of the day · <span style={{ color: "#e0a03a" }}>■</span> opened or reopened ·{" "}
        <span style={{ color: "#3c9a5f" }}>■</span> resolved — {totals.opened} opened, {totals.resolved} resolved in {days.length} days
      </figcaption>
    </figure>
  );
}

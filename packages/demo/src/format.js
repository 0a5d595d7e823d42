// Plain-text formatting shared by the console output and the report: numbers, loss
// specs, and tables with aligned columns.

/** `{ fromLogits: true, labelSmoothing: 0.1 }` → `{ fromLogits: true, labelSmoothing: 0.1 }` (JS-like, no quotes on keys). */
export function configText(config) {
  const entries = Object.entries(config ?? {}).filter(([k]) => k !== "reduction");
  if (entries.length === 0) return "()";
  return `({ ${entries.map(([k, v]) => `${k}: ${typeof v === "string" ? JSON.stringify(v) : v}`).join(", ")} })`;
}

/** `crossEntropy({ fromLogits: true })`, the way it is written in code. */
export function specText(spec) {
  return `${spec.name}${configText(spec.config)}`;
}

/** Loss specs are equal when their options (without `reduction`) are. */
export function sameSpec(a, b) {
  if (a.name !== b.name) return false;
  const norm = (c) => JSON.stringify(Object.entries(c ?? {}).filter(([k]) => k !== "reduction").sort(([x], [y]) => (x < y ? -1 : 1)));
  return norm(a.config) === norm(b.config);
}

export const pct = (x, digits = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "–");
export const fixed = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
export const secs = (s) => (Number.isFinite(s) ? (s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`) : "–");
export const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
export const signedPct = (x) => (Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(0)}%` : "–");

/**
 * A table as text: `columns` = [{ title, align: "left" | "right" }], `rows` = arrays of
 * strings. Two spaces between columns, a rule under the header.
 */
export function textTable(columns, rows) {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((v, i) => (columns[i].align === "right" ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.title)), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

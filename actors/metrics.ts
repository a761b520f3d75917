// Counters in the Prometheus text format: one registry per process, shared by its roles, served
// on the agent's control endpoint at /metrics.
type Labels = Readonly<Record<string, string>>;

const escape = (v: string): string => v.replace(/["\\\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`));
const labelKey = (labels: Labels): string =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',');

export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();

  /** Adds `by` to counter `name` with `labels` (created on first use). */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let c = this.#counters.get(name);
    if (c === undefined) {
      c = { help, values: new Map() };
      this.#counters.set(name, c);
    }
    const key = labelKey(labels);
    c.values.set(key, (c.values.get(key) ?? 0) + by);
  }

  /** Prometheus text exposition (version 0.0.4). */
  text(): string {
    const out: string[] = [];
    for (const [name, c] of [...this.#counters].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of c.values) out.push(labels === '' ? `${name} ${v}` : `${name}{${labels}} ${v}`);
    }
    return `${out.join('\n')}\n`;
  }
}

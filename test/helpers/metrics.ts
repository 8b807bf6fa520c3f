/**
 * The package's metrics as a scraper reads them, through a Prometheus text-format parser.
 * parse-prometheus-text-format folds a histogram's series into one and drops their labels, so a
 * labelled histogram is read from the registry itself (see histogramCount).
 */
import { registry } from '../../nodes/shared/metrics';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parse = require('parse-prometheus-text-format') as (text: string) => Family[];

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

export interface Scraped {
  families: Family[];
  /** The sample of `name` whose labels include `labels`, or undefined. */
  find(name: string, labels: Record<string, string>): Sample | undefined;
  /** Its value as a number; throws when there is no such sample. */
  value(name: string, labels: Record<string, string>): number;
}

export function scrape(text: string): Scraped {
  const families = parse(text);
  const find = (name: string, labels: Record<string, string>): Sample | undefined =>
    families
      .find((f) => f.name === name)
      ?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  const need = (name: string, labels: Record<string, string>): Sample => {
    const s = find(name, labels);
    if (!s) throw new Error(`no ${name} ${JSON.stringify(labels)} in the scrape`);
    return s;
  };
  return {
    families,
    find,
    value: (name, labels) => Number(need(name, labels).value),
  };
}

/** The `_count` of a labelled histogram series, from the package's registry (same process). */
export async function histogramCount(
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { metricName?: string; labels: object; value: number }[];
  const sample = values.find(
    (v) =>
      v.metricName === `${name}_count` &&
      Object.entries(labels).every(
        ([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want,
      ),
  );
  if (!sample) throw new Error(`no ${name}_count ${JSON.stringify(labels)} in the registry`);
  return sample.value;
}

import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { TestSystem } from '../support/system.js';

export const SERVICES = ['api', 'worker', 'processor', 'logger'] as const;
export type Service = (typeof SERVICES)[number];

export interface Sample {
  labels: Record<string, string>;
  /** Counter or gauge value; for a histogram or summary, its count. */
  value: number;
  /** Histograms and summaries only. */
  sum?: number;
}

export interface Family {
  name: string;
  type: string;
  samples: Sample[];
}

export type Scrape = Map<string, Family>;

interface ParsedFamily {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string; sum?: string }[];
}

/**
 * Parses a Prometheus text exposition with parse-prometheus-text-format.
 *
 * That parser keeps family names, types and counter/gauge samples, but folds
 * every label set of a histogram into one unlabelled sample (it only handles
 * unlabelled histograms). So histograms are read a second time with their TYPE
 * line turned to `untyped`, which makes the parser return the `_count` and
 * `_sum` series with their labels, one family per run of lines; those runs are
 * merged back by name.
 */
export function parseExposition(text: string): Scrape {
  const families = parsePrometheusTextFormat(text) as ParsedFamily[];
  const histograms = new Set(families.filter((family) => family.type === 'HISTOGRAM').map((family) => family.name));
  const series = new Map<string, ParsedFamily['metrics']>();
  for (const family of parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as ParsedFamily[]) {
    series.set(family.name, [...(series.get(family.name) ?? []), ...family.metrics]);
  }
  const key = (labels: Record<string, string> = {}) => JSON.stringify(Object.entries(labels).sort());

  return new Map(
    families.map((family) => {
      let samples: Sample[];
      if (histograms.has(family.name)) {
        const sums = new Map((series.get(`${family.name}_sum`) ?? []).map((metric) => [key(metric.labels), Number(metric.value)]));
        samples = (series.get(`${family.name}_count`) ?? []).map((metric) => ({
          labels: metric.labels ?? {},
          value: Number(metric.value),
          sum: sums.get(key(metric.labels)) ?? Number.NaN,
        }));
      } else {
        samples = family.metrics.map((metric) => ({ labels: metric.labels ?? {}, value: Number(metric.value ?? metric.count) }));
      }
      return [family.name, { name: family.name, type: family.type.toLowerCase(), samples }];
    }),
  );
}

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`);
  if (!response.ok) throw new Error(`${url}/metrics: HTTP ${response.status}`);
  if (!/^text\/plain/.test(response.headers.get('content-type') ?? '')) throw new Error(`${url}/metrics: not the text format`);
  return parseExposition(await response.text());
}

export async function scrapeAll(system: TestSystem, services: readonly Service[] = SERVICES): Promise<Record<Service, Scrape>> {
  const entries = await Promise.all(services.map(async (service) => [service, await scrape(system.urls[service])] as const));
  return Object.fromEntries(entries) as Record<Service, Scrape>;
}

/** Sum of the samples of `name` whose labels include `match` (0 when there are none). */
export function total(scrape: Scrape, name: string, match: Record<string, string> = {}): number {
  const family = scrape.get(name);
  if (!family) throw new Error(`metric ${name} is not exported`);
  return family.samples
    .filter((sample) => Object.entries(match).every(([label, value]) => sample.labels[label] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * The series names a scrape really offers to PromQL: each family's name and,
 * for histograms and summaries, the `_bucket`/`_sum`/`_count` series Prometheus stores.
 */
export function seriesNames(scrapes: Iterable<Scrape>): Set<string> {
  const names = new Set<string>();
  for (const scrape of scrapes) {
    for (const family of scrape.values()) {
      names.add(family.name);
      if (family.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
      if (family.type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family.name + suffix);
    }
  }
  return names;
}

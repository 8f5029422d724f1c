/**
 * Every number and date the dashboard shows, in the browser's own locale, one format each: the
 * same page never mixes 12/01 with 1 Dec, and 100 000 is not clipped to 0 000 (the chart axes use
 * these too, sized to their longest label).
 */
const numbers = new Map<number, Intl.NumberFormat>();
const numberFormat = (digits: number): Intl.NumberFormat => {
  let f = numbers.get(digits);
  if (!f) numbers.set(digits, (f = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
};
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export const num = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || Number.isNaN(n) ? '–' : numberFormat(digits).format(n));

/** An axis tick: 1.2K, 100K, 3.4M in the locale's words. */
export const tick = (n: number): string => compact.format(n);

export const metric = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : numberFormat(4).format(n));

/** A moment, in the one date format of the dashboard. */
export const when = (iso: string | number | null | undefined): string => (iso === null || iso === undefined || iso === '' ? '–' : dateTime.format(new Date(iso)));

/** A time-axis tick: the day when ticks are a day or more apart, else the time of day. */
export const timeTick = (ms: number, stepMs: number): string => (stepMs >= 86_400_000 ? dayOnly : timeOnly).format(new Date(ms));

export const seconds = (from: string | null, to: string | null): string => {
  if (!from) return '–';
  const s = ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
  return s < 120 ? `${num(s, 1)} s` : `${num(s / 60, 1)} min`;
};

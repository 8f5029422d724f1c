export const num = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const metric = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : n.toFixed(4));

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' }) : '–');

export const seconds = (from: string | null, to: string | null): string => {
  if (!from) return '–';
  const s = ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
};

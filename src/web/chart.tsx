import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { num, tick, timeTick, when } from './format';

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
  /** A second y axis on the right (e.g. validation HR@10 beside the loss). */
  right?: boolean;
}

interface ChartProps {
  title: string;
  /** x values: epoch ms for time, or plain numbers (epochs) with `time={false}`. */
  x: number[];
  lines: Line[];
  time?: boolean;
  height?: number;
  testId?: string;
}

/**
 * An axis as wide as its longest label in the axis font (uPlot's fixed 50 px clipped "100,000"
 * to "0,000"), as uPlot's own examples size it.
 */
function fitted(self: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = self.axes[axisIdx] as uPlot.Axis & { _size?: number; ticks: { size: number }; gap: number; font: [string] };
  if (cycleNum > 1 && axis._size) return axis._size;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  self.ctx.font = axis.font[0];
  return Math.ceil(axis.ticks.size + axis.gap + self.ctx.measureText(longest).width / devicePixelRatio + 8);
}

/** y ticks in the locale's compact words (1.2K, 100K); x ticks as the dashboard's dates. */
const yAxis = (scale: string, side?: 1): uPlot.Axis => ({ scale, ...(side ? { side, grid: { show: false } } : {}), size: fitted, values: (_u, splits) => splits.map((v) => (v === null ? '' : tick(v))) });
const timeAxis: uPlot.Axis = { values: (_u, splits) => splits.map((s, k) => timeTick(s * 1000, k > 0 ? (s - splits[k - 1]) * 1000 : splits.length > 1 ? (splits[1] - s) * 1000 : 0)) };

/** A line chart (uPlot): redrawn when its data change, resized with its container. */
export function Chart({ title, x, lines, time = true, height = 220, testId }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const hasRight = lines.some((l) => l.right);
    const opts: uPlot.Options = {
      title,
      width: Math.max(el.clientWidth, 300),
      height,
      scales: { x: { time } },
      // Epochs are whole numbers: no 2.25 ticks.
      axes: [time ? timeAxis : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] }, yAxis('y'), ...(hasRight ? [yAxis('y2', 1)] : [])],
      series: [
        { label: time ? 'time' : 'epoch', value: (_u, v) => (v === null ? '–' : time ? when(v * 1000) : num(v)) },
        ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, scale: l.right ? 'y2' : 'y', spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '–' : num(v, Number.isInteger(v) ? 0 : 3)) })),
      ],
    };
    const xs = time ? x.map((t) => t / 1000) : x;
    const plot = new uPlot(opts, [xs, ...lines.map((l) => l.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 300), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, x, lines, time, height]);
  return <div class="chart" ref={box} data-testid={testId} data-points={x.length} />;
}

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

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
      axes: [time ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] }, { scale: 'y' }, ...(hasRight ? [{ scale: 'y2', side: 1 as const, grid: { show: false } }] : [])],
      series: [{ label: time ? 'time' : 'epoch' }, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, scale: l.right ? 'y2' : 'y', spanGaps: false }))],
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

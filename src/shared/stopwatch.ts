/** Phases timed one after another: `phase(name)` ends the running one; `seconds` holds each to 10 ms. */
export function stopwatch(): { seconds: Record<string, number>; phase: (name: string) => void } {
  const seconds: Record<string, number> = {};
  let mark = performance.now();
  return {
    seconds,
    phase(name) {
      const now = performance.now();
      seconds[name] = Number(((now - mark) / 1000).toFixed(2));
      mark = now;
    },
  };
}

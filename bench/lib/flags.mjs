/**
 * The benchmarks' command lines: `readFlags(argv, on)` calls `on(flag, value)` for each argument, where `value()`
 * takes the argument after it (an error naming the flag when there is none).
 */
export function readFlags(argv, on) {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    on(flag, () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${flag} needs a value`);
      return x;
    });
  }
}

/** A benchmark's numeric option, `--name N` on its command line, or `fallback` when absent. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf('--' + name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** Where the AWS commands' lines go. */
export interface Output {
  /** What the command did and found: stdout. */
  info(line: string): void;
  /** Why it failed or what is wrong: stderr, prefixed `loadfarm:` like every CLI error. */
  problem(line: string): void;
}

export const stdOutput: Output = {
  info: (line) => process.stdout.write(`${line}\n`),
  problem: (line) => process.stderr.write(`loadfarm: ${line}\n`),
};

/**
 * One live progress line on stderr: rewritten in place on a terminal, printed every few
 * seconds otherwise (CI logs). Notes are printed above it.
 */
export interface LiveLine {
  update(text: string): void;
  note(text: string): void;
  done(): void;
}

export function liveLine(enabled: boolean, stream: NodeJS.WriteStream = process.stderr, everyMs = 5000): LiveLine {
  const tty = stream.isTTY === true;
  let current = '';
  let lastPrinted = 0;
  let lastLine = '';
  return {
    update(text) {
      if (!enabled) return;
      current = text;
      if (tty) stream.write(`\r\x1b[2K${text}`);
      else if (Date.now() - lastPrinted >= everyMs) {
        stream.write(`${text}\n`);
        lastPrinted = Date.now();
        lastLine = text;
      }
    },
    note(text) {
      if (tty && current) stream.write(`\r\x1b[2K${text}\n${current}`);
      else stream.write(`${text}\n`);
    },
    done() {
      // The last figures are always shown: a terminal keeps its line; a pipe or a log gets the
      // last line if the periodic print did not just write it.
      if (tty && current) stream.write('\n');
      else if (enabled && current && current !== lastLine) stream.write(`${current}\n`);
      current = '';
    },
  };
}

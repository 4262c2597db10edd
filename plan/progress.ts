/**
 * Progress on stderr for long runs: one line, rewritten in place, only when stderr is a terminal
 * (never in CI logs or when output is piped). Throttled so it costs nothing per resource.
 */
export interface ProgressStream {
    isTTY?: boolean;
    write(chunk: string): unknown;
}

export class Progress {
    private last = 0;
    private shown = false;

    /** `intervalMs`: minimum time between redraws. */
    constructor(private readonly stream: ProgressStream, readonly enabled: boolean = stream.isTTY === true, private readonly intervalMs = 100) {}

    /** Shows `text`, unless the last redraw was less than `intervalMs` ago (and `force` is not set). */
    update(text: string, force = false): void {
        if (!this.enabled) {
            return;
        }
        const now = Date.now();
        if (!force && now - this.last < this.intervalMs) {
            return;
        }
        this.last = now;
        this.shown = true;
        this.stream.write(`\r\x1b[2K${text}`);
    }

    /** Clears the progress line. */
    done(): void {
        if (this.enabled && this.shown) {
            this.stream.write("\r\x1b[2K");
            this.shown = false;
        }
    }
}

/** Build-duration parsing: "90m", "2h", "1h30m", "3600s", or a number of seconds. */

export type DurationParse = { ok: true; seconds: number } | { ok: false; problem: string };

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses a duration into whole seconds; the sign is kept so callers can report negatives. */
export function parseDuration(value: unknown): DurationParse {
    if (typeof value === "number") {
        return Number.isInteger(value) ? { ok: true, seconds: value } : { ok: false, problem: "is not a whole number of seconds" };
    }
    if (typeof value !== "string") {
        return { ok: false, problem: `is a ${value === null ? "null" : typeof value}, not a duration` };
    }
    const text = value.trim();
    const negative = text.startsWith("-");
    const body = negative ? text.slice(1) : text;
    let seconds: number | undefined;
    if (/^\d+$/.test(body)) {
        seconds = Number(body);
    } else {
        const match = DURATION.exec(body);
        if (match !== null && body !== "") {
            const [, h, m, s] = match;
            seconds = Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
        }
    }
    if (seconds === undefined) {
        return { ok: false, problem: "is not a duration" };
    }
    return { ok: true, seconds: negative ? -seconds : seconds };
}

/** 5400 -> "1h30m", for messages. */
export function formatDuration(seconds: number): string {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    const parts = [h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", s > 0 ? `${s}s` : ""].join("");
    return parts === "" ? "0s" : parts;
}

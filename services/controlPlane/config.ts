/**
 * Shared pieces of the services' environment configuration. Every `load<Service>Config(env)` collects
 * every problem (naming the variable, the value and the fix) and throws them together in one
 * `ServiceConfigError` before the service starts: nothing listens with a half-known config.
 */

export class ServiceConfigError extends Error {
    constructor(
        readonly service: string,
        readonly problems: string[],
    ) {
        super(`${service}: invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n- ${problems.join("\n- ")}`);
        this.name = "ServiceConfigError";
    }
}

/** Collects problems while reading an environment. */
export class EnvReader {
    readonly problems: string[] = [];
    constructor(private readonly env: NodeJS.ProcessEnv) {}

    /** A required non-empty string. */
    required(name: string, fix: string): string {
        const value = this.env[name];
        if (value === undefined || value.trim() === "") {
            this.problems.push(`${name}: missing; ${fix}`);
            return "";
        }
        return value.trim();
    }

    optional(name: string): string | undefined {
        const value = this.env[name];
        return value === undefined || value.trim() === "" ? undefined : value.trim();
    }

    /** An https URL (or http on loopback, for local mode) without query, fragment or credentials. */
    url(name: string, fix: string, value = this.required(name, fix)): string {
        if (value === "") {
            return "";
        }
        let url: URL;
        try {
            url = new URL(value);
        } catch {
            this.problems.push(`${name}: ${JSON.stringify(value)} is not a URL; ${fix}`);
            return "";
        }
        const loopback = url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]");
        if (url.protocol !== "https:" && !loopback) {
            this.problems.push(`${name}: ${JSON.stringify(value)} must use https (http only on loopback); ${fix}`);
        }
        if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
            this.problems.push(`${name}: ${JSON.stringify(value)} must not carry credentials, a query or a fragment; ${fix}`);
        }
        return value.replace(/\/+$/, "");
    }

    /** An integer in [min, max], with a default when unset. */
    integer(name: string, dflt: number, min: number, max: number): number {
        const raw = this.optional(name);
        if (raw === undefined) {
            return dflt;
        }
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw) || n < min || n > max) {
            this.problems.push(`${name}: ${JSON.stringify(raw)} must be an integer between ${min} and ${max} (default ${dflt})`);
            return dflt;
        }
        return n;
    }

    /** A port for the HTTP server: PORT (Cloud Run sets it), default 8080. */
    port(): number {
        return this.integer("PORT", 8080, 1, 65535);
    }

    /** A JSON value, or undefined (with a problem) when it does not parse. */
    json(name: string, fix: string): unknown {
        const raw = this.required(name, fix);
        if (raw === "") {
            return undefined;
        }
        try {
            return JSON.parse(raw);
        } catch (err) {
            this.problems.push(`${name}: not valid JSON (${(err as Error).message}); ${fix}`);
            return undefined;
        }
    }

    throwIfProblems(service: string): void {
        if (this.problems.length > 0) {
            throw new ServiceConfigError(service, this.problems);
        }
    }
}

/** Secret Manager secret version name, e.g. projects/p/secrets/s/versions/latest. */
export const SECRET_VERSION = /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/;

export function secretVersion(reader: EnvReader, name: string, what: string): string {
    const value = reader.required(name, `set the Secret Manager version holding ${what}, e.g. projects/<p>/secrets/<s>/versions/latest`);
    if (value !== "" && !SECRET_VERSION.test(value)) {
        reader.problems.push(`${name}: ${JSON.stringify(value)} is not a secret version name; use projects/<p>/secrets/<s>/versions/<n|latest>`);
    }
    return value;
}

/** The GitHub App settings shared by the broker and the webhook receiver. */
export interface GithubSettings {
    apiUrl: string;
    appId: string;
    installationId: string;
    /** Secret Manager version of the App private key (PEM). */
    privateKeySecret: string;
    org: string;
    repository?: string;
    /** Share of the installation's hourly rate limit the fleet may use, percent (GITHUB_BUDGET_PERCENT, default 50). */
    budgetPercent: number;
}

export function readGithub(reader: EnvReader): GithubSettings {
    const apiUrl = reader.url("GITHUB_API_URL", "set the GitHub REST API base (default https://api.github.com)", reader.optional("GITHUB_API_URL") ?? "https://api.github.com");
    const appId = reader.required("GITHUB_APP_ID", "set the GitHub App's id (or client id)");
    if (appId !== "" && !/^(\d{1,20}|Iv[0-9A-Za-z.]{4,40})$/.test(appId)) {
        reader.problems.push(`GITHUB_APP_ID: ${JSON.stringify(appId)} is neither an App id (digits) nor a client id (Iv...)`);
    }
    const installationId = reader.required("GITHUB_APP_INSTALLATION_ID", "set the App installation id of the organization");
    if (installationId !== "" && !/^\d{1,20}$/.test(installationId)) {
        reader.problems.push(`GITHUB_APP_INSTALLATION_ID: ${JSON.stringify(installationId)} must be digits`);
    }
    const privateKeySecret = secretVersion(reader, "GITHUB_APP_PRIVATE_KEY_SECRET", "the GitHub App private key (PEM)");
    const org = reader.required("GITHUB_ORG", "set the GitHub organization the fleet serves");
    if (org !== "" && !/^[A-Za-z0-9-]{1,39}$/.test(org)) {
        reader.problems.push(`GITHUB_ORG: ${JSON.stringify(org)} is not an organization login`);
    }
    const repository = reader.optional("GITHUB_REPOSITORY");
    if (repository !== undefined && !/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(repository)) {
        reader.problems.push(`GITHUB_REPOSITORY: ${JSON.stringify(repository)} must be owner/name (or unset for organization runners)`);
    }
    const budgetPercent = reader.integer("GITHUB_BUDGET_PERCENT", 50, 1, 100);
    return { apiUrl, appId, installationId, privateKeySecret, org, budgetPercent, ...(repository !== undefined ? { repository } : {}) };
}

/** The records bucket shared by the control-plane services. */
export function readRecordsBucket(reader: EnvReader): string {
    const value = reader.required("RECORDS_BUCKET", "set the control plane's records bucket (registrations, job facts)");
    if (value !== "" && !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(value)) {
        reader.problems.push(`RECORDS_BUCKET: ${JSON.stringify(value)} is not a bucket name`);
    }
    return value;
}

/**
 * The one reading of `github.configUrl`, shared by the config validator and the ControlPlane component,
 * so a URL the validator accepts is one every component accepts (and the other way round).
 *
 * Accepted: an organization or repository on github.com, on GitHub Enterprise Cloud with data residency
 * (`<subdomain>.ghe.com`, API at `api.<subdomain>.ghe.com`) or on GitHub Enterprise Server (API at
 * `<origin>/api/v3`). Refused, with the reason: an enterprise (`/enterprises/<slug>`), because GitHub
 * registers enterprise-level runners only for a personal access token (classic) with
 * `manage_runners:enterprise`, while the broker and ARC here authenticate as a GitHub App.
 */
import { httpsUrlProblem } from "./names";

/** What the services need to know about the GitHub target. */
export interface GithubTarget {
    serverUrl: string;
    apiUrl: string;
    org: string;
    repository?: string;
}

export type GithubUrlReading = { target: GithubTarget } | { problem: string; fix: string };

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const EXAMPLE = "https://github.com/acme";

/** The REST API base of a GitHub host: github.com, a GHE.com subdomain, or a GitHub Enterprise Server. */
export function githubApiUrl(url: URL): string {
    if (url.hostname === "github.com") {
        return "https://api.github.com";
    }
    if (url.hostname.endsWith(".ghe.com")) {
        return `https://api.${url.hostname}`;
    }
    return `${url.origin}/api/v3`;
}

/** Reads `configUrl` as the target runners register with, or says why it cannot be one and how to fix it. */
export function readGithubConfigUrl(configUrl: string): GithubUrlReading {
    const urlProblem = httpsUrlProblem(configUrl);
    if (urlProblem !== undefined) {
        return { problem: urlProblem, fix: `use an https URL, e.g. ${EXAMPLE}` };
    }
    const url = new URL(configUrl);
    if (url.hostname === "www.github.com" || url.hostname === "api.github.com" || /^api\.[^.]+\.ghe\.com$/.test(url.hostname)) {
        const host = url.hostname.replace(/^(www|api)\./, "");
        return { problem: `names the host ${url.hostname}, not the GitHub web host runners register with`, fix: `use https://${host}${url.pathname.replace(/\/+$/, "")}` };
    }
    const segments = url.pathname.split("/").filter((s) => s !== "");
    if (segments[0] === "enterprises") {
        return {
            problem: "names an enterprise; GitHub registers enterprise-level runners only for a personal access token (classic), and this fleet's broker and ARC authenticate as a GitHub App",
            fix: `register the runners with an organization instead, e.g. ${url.origin}/${segments[1] ?? "acme"}, and share that organization's runner group with the repositories that may use the fleet`,
        };
    }
    if (segments.length === 0) {
        return { problem: "names no organization or repository", fix: `append the organization, e.g. ${url.origin}/acme` };
    }
    const [org, repo, ...rest] = segments;
    if (rest.length > 0 || !ORG.test(org) || (repo !== undefined && !REPO.test(repo))) {
        return { problem: "is not the URL of an organization or a repository", fix: `use ${url.origin}/<organization> or ${url.origin}/<organization>/<repository>, e.g. ${url.origin}/acme` };
    }
    return {
        target: {
            serverUrl: url.origin,
            apiUrl: githubApiUrl(url),
            org,
            ...(repo !== undefined ? { repository: `${org}/${repo}` } : {}),
        },
    };
}

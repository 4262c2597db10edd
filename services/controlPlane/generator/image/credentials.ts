/**
 * The publishing identity's registry credentials in the cloud: Artifact Registry accepts the
 * service's own OAuth access token as the password of the user `oauth2accesstoken` (basic auth or
 * its token exchange). The token comes from google-auth-library (the Cloud Run service account).
 */
import type { Credentials } from "../../../lib/oci/registry";

export function googleRegistryCredentials(): () => Promise<Credentials> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GoogleAuth } = require("google-auth-library");
    const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    return async () => {
        const token = await auth.getAccessToken();
        if (typeof token !== "string" || token.length === 0) {
            throw new Error("no access token for the publishing identity");
        }
        return { username: "oauth2accesstoken", password: token };
    };
}

/**
 * A throwaway timestamp-authority certificate chain (timestamping certificate, then its root), made at
 * test time by the local TSA stand-in: public certificates of a key generated now, never committed.
 */
import { startLocalTsa } from "../../services/sim/localTsa";

let chain: Promise<string> | undefined;

/** The chain, made once per test process. */
export function throwawayTsaChain(): Promise<string> {
    chain ??= startLocalTsa().then(async (tsa) => {
        await tsa.close();
        return tsa.certChainPem;
    });
    return chain;
}

/** `pem`'s certificates, in order. */
export function pemBlocks(pem: string): string[] {
    return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/**
 * `warnings` without the timestamp authority's bootstrap warnings (no TSA yet, or its chain not made yet), for
 * tests about other warnings whose minimal configs set no TSA; test/components/config/config.test.ts tests those.
 */
export function withoutTsaBootstrapWarnings(warnings: string[]): string[] {
    return warnings.filter((w) => !/^hardened-build-fleet:signer\.timestampAuthority(\.certificateChainPem)? is not set: /.test(w));
}

/**
 * The whole control plane on loopback, with the real service code and local stand-ins: the fake
 * GitHub API, the identity issuer (Google's ID tokens and the VMs' metadata servers), simulated
 * MIGs, the fake GCS upload endpoint, directory-backed buckets, and the signer app with its file
 * key (generated at run time) and caller checks ON against the issuer: only the generator's
 * identity may sign. Used by `npm run simulate`, the tests and the benchmark.
 */
import { randomBytes } from "crypto";
import { generateKeyPairSync } from "crypto";
import { mkdirSync } from "fs";
import type { AddressInfo } from "net";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import type { ServiceMetrics } from "../lib/ops/metrics";
import { BrokerDeps, buildBrokerApp } from "../controlPlane/broker/app";
import type { DemandPoint } from "../controlPlane/cloud";
import { buildGeneratorService, FINALIZE_PATH, GeneratorService } from "../controlPlane/generator/app";
import { GithubRestClient } from "../controlPlane/github";
import type { AuditEntry } from "../controlPlane/http";
import type { PoolSpec } from "../controlPlane/pools";
import { Records } from "../controlPlane/records";
import { SignerClient } from "../controlPlane/signerClient";
import { keySigner } from "../controlPlane/uploadPolicy";
import { buildWebhookService, WEBHOOK_PATH, WebhookService } from "../controlPlane/webhook/app";
import { IdTokenVerifier } from "../lib/idToken";
import { DirectoryStore, ObjectStore } from "../lib/objectStore";
import type { TrustedRoot } from "@sigstore/protobuf-specs";
import { buildTrustedRoot } from "../lib/trustedRoot";
import { buildSignerApp } from "../signer/app";
import { witnessesFor } from "../signer/attest";
import { FileSigningKey } from "../signer/signingKey";
import { CountingStore } from "./countingStore";
import { FakeGcs } from "./fakeGcs";
import { FakeGithub } from "./fakeGithub";
import { FakeMig } from "./fakeMig";
import { FakeCluster } from "./fakeCluster";
import { bearerKubeTransport, KubernetesRunnerPods } from "../controlPlane/kubernetes";
import { discoveredIssuerKeys, IssuerKeys, PodTokenVerifier } from "../lib/podToken";
import { simPool } from "./fixtures";
import { IdentityIssuer } from "./identityIssuer";
import { LocalTsa, startLocalTsa } from "./localTsa";
import { LocalRekor, startLocalRekor } from "./localRekor";
import { SimRegistry, startSimRegistry } from "./images";

/** Audiences as the services would have them in the cloud (their URLs); fixed so verifiers exist before listening. */
export const SIM_AUDIENCE = {
    broker: "https://broker.sim.hardened-build-fleet.invalid",
    generator: "https://generator.sim.hardened-build-fleet.invalid",
    signer: "https://signer.sim.hardened-build-fleet.invalid",
} as const;
export const SIM_IDENTITIES = {
    broker: "broker@sim-control.iam.gserviceaccount.com",
    generator: "generator@sim-control.iam.gserviceaccount.com",
    push: "intake-push@sim-control.iam.gserviceaccount.com",
} as const;
export const SIM_BUILDER_ID = "https://github.com/hardened-build-fleet/builders/sim@v1";
export const SIM_ORG = "acme";
export const SIM_REPOSITORIES = ["acme/app", "acme/lib"];

/** `n` repositories of the simulated organization: acme/app, acme/lib, then acme/repo-0001, ... */
export function simRepositories(n: number): string[] {
    return [...SIM_REPOSITORIES, ...Array.from({ length: Math.max(0, n - 2) }, (_, i) => `acme/repo-${String(i + 1).padStart(4, "0")}`)].slice(0, n);
}

export interface SimFleet {
    pools: PoolSpec[];
    repositories: string[];
    /** The records bucket, counting what is read through it. */
    recordsStore: CountingStore;
    /** Another webhook receiver instance on the same records (a scaled-out or restarted instance). */
    webhookInstance(): WebhookService;
    issuer: IdentityIssuer;
    github: FakeGithub;
    gcs: FakeGcs;
    mig: FakeMig;
    /** The GKE pools' cluster (issuer, API server, ARC); present with `gkePools`. */
    cluster?: FakeCluster;
    /** The cluster issuer's keys as the broker fetches them (for variant brokers). */
    podIssuerKeys?: IssuerKeys;
    /** ARC's GitHub client in the cluster stand-in (registers EphemeralRunners JIT). */
    arcGithub(): GithubRestClient;
    records: Records;
    intake: Record<string, ObjectStore>;
    provenance: ObjectStore;
    broker: { app: FastifyInstance; url: string };
    /** What the broker was built with: tests build variants with one protection switched off. */
    brokerDeps: BrokerDeps;
    webhook: WebhookService & { url: string };
    generator: GeneratorService & { url: string };
    signer: { app: FastifyInstance; url: string };
    /** The local timestamp authority the signer stamps every bundle with. */
    tsa: LocalTsa;
    /** With `tlog`: the local transparency log every bundle is also written to. */
    tlog?: LocalRekor;
    /** The fleet's trusted root (that TSA), as published beside the keyring. */
    trustedRoot: TrustedRoot;
    /** The release registry, when the fleet publishes images. */
    registry?: SimRegistry;
    demandPoints: DemandPoint[];
    audit: AuditEntry[];
    /** Generator notifications the fake GCS pushed (as Pub/Sub would), with the generator's answer. */
    notifications: Promise<{ object: string; status: number }>[];
    /** A push token of the notification subscription's identity. */
    pushToken(): string;
    close(): Promise<void>;
}

function poolNames(n: number, prefix = "pool"): string[] {
    return Array.from({ length: n }, (_, i) => (n <= 26 ? `${prefix}-${String.fromCharCode(97 + i)}` : `${prefix}-${i}`));
}

async function listen(app: FastifyInstance): Promise<string> {
    await app.listen({ host: "127.0.0.1", port: 0 });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export interface SimFleetOptions {
    pools: number;
    /** GKE pools (`gke-a`, ...) beside the GCE pools: one ARC runner pod per job in a stand-in cluster. */
    gkePools?: number;
    dir: string;
    repos?: number;
    quiet?: boolean;
    /** Publish image uploads to a release registry: started here, or `registry` (`host:port`) behind the IAM stand-in. */
    images?: { registry?: string };
    /** Where every service records its metrics; default the global meter's (a no-op unless installed). */
    metrics?: ServiceMetrics;
    /** Also write every bundle to a local Rekor-compatible log (listed in the trusted root), speaking Rekor API v1 or v2. */
    tlog?: 1 | 2;
}

export async function startSimFleet(opts: SimFleetOptions): Promise<SimFleet> {
    const repositories = simRepositories(opts.repos ?? SIM_REPOSITORIES.length);
    const cluster = (opts.gkePools ?? 0) > 0 ? await FakeCluster.start() : undefined;
    const pools = [
        ...poolNames(opts.pools).map((n) => simPool(n)),
        ...poolNames(opts.gkePools ?? 0, "gke").map((n) => simPool(n, { backend: "gke", kubernetes: cluster!.poolSettings(n) })),
    ];
    const pods = cluster === undefined ? undefined : new KubernetesRunnerPods(bearerKubeTransport(async () => cluster.controlPlaneToken));
    const podIssuerKeys = discoveredIssuerKeys();
    const dir = (...p: string[]) => {
        const d = path.join(opts.dir, ...p);
        mkdirSync(d, { recursive: true });
        return d;
    };
    // Throwaway keys, generated now: the GitHub App's, the broker's upload-policy signer's, the signer's P-256 key.
    const appKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const uploadKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const signingKey = generateKeyPairSync("ec", { namedCurve: "P-256" });

    const issuer = await IdentityIssuer.start();
    const certs = issuer.certSource();
    const audit: AuditEntry[] = [];
    const log = (e: AuditEntry) => void audit.push(e);
    const recordsStore = new CountingStore(new DirectoryStore(dir("records")));
    const records = new Records(recordsStore);
    const intake: Record<string, ObjectStore> = {};
    const buckets: Record<string, ObjectStore> = {};
    for (const p of pools) {
        intake[p.name] = buckets[p.intakeBucket] = new DirectoryStore(dir("intake", p.intakeBucket));
    }
    const provenance = new DirectoryStore(dir("provenance"));

    const github = new FakeGithub({
        appId: "1001",
        installationId: "2002",
        appPublicKey: appKey.publicKey.export({ type: "spki", format: "pem" }).toString(),
        org: SIM_ORG,
        repositories,
        webhookSecret: `sim-${randomBytes(24).toString("hex")}`,
    });
    const githubUrl = await github.listen();
    const githubClient = () => new GithubRestClient({
        baseUrl: githubUrl,
        appId: "1001",
        installationId: "2002",
        privateKey: async () => appKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        org: SIM_ORG,
        // Loopback: no pacing of registrations, short retry backoff.
        writesPerSecond: 1000,
        retryBaseMs: 10,
    });

    const mig = new FakeMig(issuer);
    const demandPoints: DemandPoint[] = [];
    const webhookInstance = () => buildWebhookService({
        pools,
        secret: github.opts.webhookSecret,
        records,
        github: githubClient(),
        demandPublisher: { publish: async (points) => void demandPoints.push(...points) },
        scaler: mig,
        ...(pods !== undefined ? { pods } : {}),
        audit: log,
        metrics: opts.metrics,
    });
    const webhook = webhookInstance();
    const webhookUrl = await listen(webhook.app);
    github.opts.webhookUrl = `${webhookUrl}${WEBHOOK_PATH}`;

    const key = new FileSigningKey(signingKey.privateKey);
    const tsa = await startLocalTsa();
    const tlog = opts.tlog !== undefined ? await startLocalRekor({ apiVersion: opts.tlog }) : undefined;
    const trustedRoot = buildTrustedRoot({ timestampAuthorities: [tsa.authority], transparencyLogs: tlog !== undefined ? [tlog.log] : [] });
    const signerApp = buildSignerApp({
        builderId: SIM_BUILDER_ID,
        versions: [{ name: key.name, state: "active", validFrom: "1970-01-01T00:00:00Z" }],
        signingKey: key,
        publicKeyOf: async () => key.publicKey(),
        store: provenance,
        attestation: { witnesses: witnessesFor({ tsaUrl: tsa.url, ...(tlog !== undefined ? { tlogUrl: tlog.url, tlogApiVersion: tlog.apiVersion } : {}) }), trustedRoot },
        // Caller checks ON, as in the cloud: only the generator's identity may sign.
        caller: { mode: "cloud", verifier: new IdTokenVerifier({ audience: SIM_AUDIENCE.signer, certs }), allowedCallers: [SIM_IDENTITIES.generator] },
        metrics: opts.metrics,
    });
    const signerUrl = await listen(signerApp);

    const registry = opts.images !== undefined ? await startSimRegistry(issuer, certs, SIM_IDENTITIES.generator, opts.images.registry) : undefined;
    const generator = buildGeneratorService({
        pools,
        intake,
        records,
        signer: new SignerClient({ url: signerUrl, audience: SIM_AUDIENCE.signer, idToken: async (aud) => issuer.mint({ audience: aud, email: SIM_IDENTITIES.generator }), metrics: opts.metrics }),
        pushVerifier: new IdTokenVerifier({ audience: SIM_AUDIENCE.generator, certs }),
        pushServiceAccount: SIM_IDENTITIES.push,
        builderId: SIM_BUILDER_ID,
        maxObjectBytes: 64 * 1024 * 1024,
        ...(registry !== undefined ? { images: registry.publisher } : {}),
        audit: log,
        metrics: opts.metrics,
    });
    const generatorUrl = await listen(generator.app);
    const pushToken = () => issuer.mint({ audience: SIM_AUDIENCE.generator, email: SIM_IDENTITIES.push });

    const notifications: Promise<{ object: string; status: number }>[] = [];
    const gcs = new FakeGcs({
        buckets,
        signers: { [SIM_IDENTITIES.broker]: uploadKey.publicKey },
        // OBJECT_FINALIZE -> Pub/Sub push to the generator, authenticated as the push identity.
        onFinalize: (bucket, object) => {
            notifications.push(pushFinalize(generatorUrl, pushToken(), bucket, object).then((status) => ({ object, status })));
        },
    });
    const gcsUrl = await gcs.listen();

    const brokerDeps: BrokerDeps = {
        pools,
        verifier: new IdTokenVerifier({ audience: SIM_AUDIENCE.broker, certs }),
        membership: mig,
        images: mig,
        github: githubClient(),
        records,
        uploadSigner: keySigner(SIM_IDENTITIES.broker, uploadKey.privateKey),
        uploadEndpoint: gcsUrl,
        uploadMaxBytes: 16 * 1024 * 1024,
        ...(pods !== undefined ? { pods: { tokens: new PodTokenVerifier({ audience: SIM_AUDIENCE.broker, keys: podIssuerKeys }), api: pods } } : {}),
        audit: log,
        metrics: opts.metrics,
    };
    const broker = buildBrokerApp(brokerDeps);
    const brokerUrl = await listen(broker);

    return {
        pools,
        repositories,
        recordsStore,
        webhookInstance,
        issuer,
        github,
        gcs,
        mig,
        ...(cluster !== undefined ? { cluster, podIssuerKeys } : {}),
        arcGithub: githubClient,
        records,
        intake,
        provenance,
        broker: { app: broker, url: brokerUrl },
        brokerDeps,
        webhook: { ...webhook, url: webhookUrl },
        generator: { ...generator, url: generatorUrl },
        signer: { app: signerApp, url: signerUrl },
        tsa,
        ...(tlog !== undefined ? { tlog } : {}),
        trustedRoot,
        ...(registry !== undefined ? { registry } : {}),
        demandPoints,
        audit,
        notifications,
        pushToken,
        close: async () => {
            await Promise.allSettled(notifications);
            await Promise.all([broker.close(), webhook.app.close(), generator.app.close(), signerApp.close(), gcs.close(), github.close()]);
            await mig.close();
            await cluster?.close();
            await tsa.close();
            await tlog?.close();
            await registry?.close();
            await issuer.close();
        },
    };
}

/** A Pub/Sub push of a Cloud Storage OBJECT_FINALIZE notification to the generator. */
export async function pushFinalize(generatorUrl: string, token: string, bucket: string, object: string): Promise<number> {
    const res = await fetch(`${generatorUrl}${FINALIZE_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
            message: { attributes: { bucketId: bucket, objectId: object, eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1" }, messageId: String(Date.now()) },
            subscription: "projects/sim-control/subscriptions/intake-finalize",
        }),
    });
    await res.arrayBuffer();
    return res.status;
}

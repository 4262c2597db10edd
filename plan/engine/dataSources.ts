/**
 * Plausible results for the data sources (invokes) fleet programs use. Unknown tokens echo
 * their arguments so a program keeps running; the call is still recorded in the run.
 */
import { generateKeyPairSync } from "crypto";
import { k8sInvoke } from "./k8sExpand";
import { hex } from "./computedOutputs";
import { CapturedResource } from "./types";

export interface InvokeContext {
    token: string;
    args: Record<string, any>;
    project: string;
    region: string;
    /** Registered resources by provider id, to answer lookups of resources the program created. */
    byId: Map<string, CapturedResource>;
}

/** Throwaway public keys generated per process: never committed, never a real signer's key. */
const publicKeys = new Map<string, string>();
function throwawayPublicKeyPem(algorithm: string): string {
    let pem = publicKeys.get(algorithm);
    if (!pem) {
        const curve = algorithm.includes("P384") ? "secp384r1" : algorithm.includes("SECP256K1") ? "secp256k1" : "prime256v1";
        const pair = algorithm.startsWith("RSA")
            ? generateKeyPairSync("rsa", { modulusLength: 2048 })
            : generateKeyPairSync("ec", { namedCurve: curve });
        pem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
        publicKeys.set(algorithm, pem);
    }
    return pem;
}

function projectNumber(project: string): string {
    return BigInt("0x" + hex(`project:${project}`, 12)).toString().slice(0, 12);
}

type InvokeModel = (ctx: InvokeContext) => Record<string, any>;

function kmsVersion(ctx: InvokeContext): Record<string, any> {
    const key = String(ctx.args.cryptoKey ?? "");
    const version = Number(ctx.args.version ?? 1);
    const template = ctx.byId.get(key)?.inputs?.versionTemplate ?? {};
    const algorithm = template.algorithm ?? "EC_SIGN_P256_SHA256";
    const name = `${key}/cryptoKeyVersions/${version}`;
    return {
        id: `//cloudkms.googleapis.com/v1/${name}`,
        cryptoKey: key,
        name,
        version,
        algorithm,
        protectionLevel: template.protectionLevel ?? "SOFTWARE",
        state: "ENABLED",
        publicKeys: [{ algorithm, pem: throwawayPublicKeyPem(algorithm) }],
    };
}

/** An IAM policy document as the provider renders it (bindings sorted by role, members sorted), so IAMPolicy resources can be judged. */
function iamPolicyDocument(ctx: InvokeContext): Record<string, any> {
    const bindings = (Array.isArray(ctx.args.bindings) ? ctx.args.bindings : []).map((b: any) => ({
        role: b?.role,
        members: Array.isArray(b?.members) ? [...b.members].sort() : [],
        ...(b?.condition ? { condition: b.condition } : {}),
    })).sort((a: any, b: any) => String(a.role).localeCompare(String(b.role)));
    const auditConfigs = Array.isArray(ctx.args.auditConfigs) ? ctx.args.auditConfigs : undefined;
    const policyData = JSON.stringify({ bindings, ...(auditConfigs ? { auditConfigs } : {}) });
    return { ...ctx.args, id: hex(policyData, 16), policyData };
}

const INVOKES: Record<string, InvokeModel> = {
    "gcp:organizations/getIAMPolicy:getIAMPolicy": iamPolicyDocument,
    "gcp:kms/getKMSCryptoKeyVersion:getKMSCryptoKeyVersion": kmsVersion,
    "gcp:kms/getCryptoKeyLatestVersion:getCryptoKeyLatestVersion": kmsVersion,
    "gcp:organizations/getProject:getProject": (ctx) => {
        const projectId = ctx.args.projectId ?? ctx.project;
        return { id: `projects/${projectId}`, projectId, number: projectNumber(projectId), name: projectId, labels: {} };
    },
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": (ctx) => {
        const project = ctx.args.project ?? ctx.project;
        const email = `service-${projectNumber(project)}@gs-project-accounts.iam.gserviceaccount.com`;
        return { id: email, project, emailAddress: email, member: `serviceAccount:${email}` };
    },
    "gcp:organizations/getClientConfig:getClientConfig": (ctx) => ({
        id: `projects/${ctx.project}/regions/${ctx.region}`,
        project: ctx.project,
        region: ctx.region,
        zone: `${ctx.region}-a`,
        accessToken: "offline-plan-placeholder",
    }),
    "gcp:compute/getDefaultServiceAccount:getDefaultServiceAccount": (ctx) => {
        const project = ctx.args.project ?? ctx.project;
        const email = `${projectNumber(project)}-compute@developer.gserviceaccount.com`;
        return { id: email, email, project, member: `serviceAccount:${email}`, name: `projects/${project}/serviceAccounts/${email}` };
    },
    "gcp:compute/getImage:getImage": (ctx) => {
        const project = ctx.args.project ?? ctx.project;
        const name = ctx.args.name ?? `${ctx.args.family ?? "image"}-v20260101`;
        const id = `projects/${project}/global/images/${name}`;
        return { id, name, family: ctx.args.family, project, selfLink: `https://www.googleapis.com/compute/v1/${id}`, status: "READY" };
    },
    "gcp:compute/getZones:getZones": (ctx) => ({ id: ctx.region, names: ["a", "b", "c"].map((z) => `${ctx.region}-${z}`) }),
};

export function modelInvoke(ctx: InvokeContext): Record<string, any> {
    const k8s = k8sInvoke(ctx.token, ctx.args);
    if (k8s !== undefined) {
        return k8s;
    }
    const model = INVOKES[ctx.token];
    return model ? model(ctx) : { ...ctx.args };
}

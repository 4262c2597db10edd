/**
 * Simulated managed instance groups: VMs with GCE-shaped identities (a random decimal instance id,
 * a name, a zone in the pool's region, a creation timestamp) and a metadata server per VM (the
 * identity issuer's), which mints `format=full` identity tokens of the pool's service account. It
 * also stands in for the Compute API: membership (listManagedInstances), the boot image
 * (instances.get + disks.get) and scale-in (deleteInstances).
 */
import { createHash, randomBytes } from "crypto";
import type { BootImageReader, InstanceRef, MigMembership, MigScaler } from "../controlPlane/cloud";
import type { BootImage } from "../controlPlane/records";
import type { PoolSpec } from "../controlPlane/pools";
import type { IdentityIssuer, MetadataServer } from "./identityIssuer";

export interface SimVm {
    pool: PoolSpec;
    ref: InstanceRef;
    creationTimestamp: number;
    metadata?: MetadataServer;
    deleted: boolean;
}

/** The image a pool's VMs boot from, by self link and a numeric id derived from it. */
export function simBootImage(pool: PoolSpec): BootImage {
    const id = BigInt(`0x${createHash("sha256").update(pool.image).digest("hex").slice(0, 15)}`).toString();
    return { uri: `https://compute.googleapis.com/compute/v1/${pool.image}`, id };
}

export class FakeMig implements MigMembership, MigScaler, BootImageReader {
    readonly vms = new Map<string, SimVm>();
    readonly deletions: { pool: string; instanceId: string }[] = [];

    constructor(private readonly issuer: IdentityIssuer) {}

    /** Creates a VM in the pool's MIG (as the autoscaler would) with its own metadata server. */
    async createVm(pool: PoolSpec): Promise<SimVm> {
        const instanceId = (BigInt(`0x${randomBytes(8).toString("hex")}`) % 9_000_000_000_000_000_000n + 1_000_000_000_000_000_000n).toString();
        const zone = `${pool.region}-${"bcd"[this.vms.size % 3]}`;
        const vm: SimVm = {
            pool,
            ref: { project: pool.project, zone, instanceName: `${pool.mig}-${randomBytes(2).toString("hex")}`, instanceId },
            creationTimestamp: Math.floor(Date.now() / 1000),
            deleted: false,
        };
        vm.metadata = await this.issuer.startMetadataServer({ email: pool.serviceAccount, computeEngine: this.claims(vm) });
        this.vms.set(instanceId, vm);
        return vm;
    }

    claims(vm: SimVm) {
        return {
            projectId: vm.ref.project,
            projectNumber: 123456789012,
            zone: vm.ref.zone,
            instanceId: vm.ref.instanceId,
            instanceName: vm.ref.instanceName,
            instanceCreationTimestamp: vm.creationTimestamp,
        };
    }

    /** An identity token from the VM's metadata server, as the startup script (or a job) asks for it. */
    async identityToken(vm: SimVm, audience: string): Promise<string> {
        const res = await fetch(`${vm.metadata!.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`, {
            headers: { "Metadata-Flavor": "Google" },
        });
        if (!res.ok) {
            throw new Error(`metadata server answered ${res.status}`);
        }
        return res.text();
    }

    async isMember(pool: PoolSpec, instance: InstanceRef): Promise<boolean> {
        const vm = this.vms.get(instance.instanceId);
        return vm !== undefined && !vm.deleted && vm.pool.name === pool.name && vm.pool.mig === pool.mig &&
            vm.ref.zone === instance.zone && vm.ref.instanceName === instance.instanceName && vm.ref.project === instance.project;
    }

    async bootImage(_pool: PoolSpec, instance: InstanceRef): Promise<BootImage> {
        const vm = this.vms.get(instance.instanceId);
        if (vm === undefined || vm.deleted) {
            throw new Error(`instance ${instance.instanceId} does not exist`);
        }
        return simBootImage(vm.pool);
    }

    async deleteInstance(pool: PoolSpec, instance: InstanceRef): Promise<void> {
        const vm = this.vms.get(instance.instanceId);
        if (vm !== undefined && vm.pool.name === pool.name && !vm.deleted) {
            vm.deleted = true;
            this.deletions.push({ pool: pool.name, instanceId: instance.instanceId });
            await vm.metadata?.close();
        }
    }

    async close(): Promise<void> {
        await Promise.all([...this.vms.values()].map((vm) => (vm.deleted ? undefined : vm.metadata?.close())));
    }
}

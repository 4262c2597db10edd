/**
 * No service-account keys anywhere in the stack (I7): a key is a standing, exportable credential
 * that any holder can use from anywhere; fleet identities authenticate through attached service
 * accounts and Workload Identity only.
 */
import { FleetResourcePolicy } from "../../meta";
import { forTypes } from "../../recognisers/common";

export const SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key";

export const noServiceAccountKeys: FleetResourcePolicy = {
    name: "no-service-account-keys",
    description: "[I7] No service-account keys (gcp:serviceaccount/key:Key) anywhere in the stack.",
    enforcementLevel: "mandatory",
    meta: {
        checks: "no `gcp:serviceaccount/key:Key` anywhere",
        invariants: ["I7"],
        fix: "Delete the service-account key; use the VM's attached service account, GKE Workload Identity or Workload Identity Federation instead.",
    },
    validateResource: forTypes([SERVICE_ACCOUNT_KEY], (_props, _args, report) => {
        report("a service-account key is a standing credential that can be exported and used from anywhere; remove it and use attached service accounts or Workload Identity.");
    }),
};

export const serviceAccountKeyPolicies: FleetResourcePolicy[] = [noServiceAccountKeys];

/**
 * The one entry point of the services image: `node dist/services/main.js <service>` or `SERVICE=<service>`,
 * with <service> one of signer, broker, webhook, generator. Each service module exports
 * `main(env)`, which reads and validates its own environment and starts listening.
 */

export const SERVICES = ["signer", "broker", "webhook", "generator"] as const;
export type ServiceName = (typeof SERVICES)[number];

type ServiceMain = (env: NodeJS.ProcessEnv) => Promise<void>;

/**
 * Each service's `main`, loaded only in the container that runs it (the others' dependencies stay unloaded);
 * literal import paths, so the compiler checks every module and its `main(env)` signature.
 */
const MAINS: Record<ServiceName, () => Promise<ServiceMain>> = {
    signer: async () => (await import("./signer/main")).main,
    broker: async () => (await import("./controlPlane/broker/main")).main,
    webhook: async () => (await import("./controlPlane/webhook/main")).main,
    generator: async () => (await import("./controlPlane/generator/main")).main,
};

/** The service to start: argv[2] first, then SERVICE; undefined (with the reason) when neither names a known one. */
export function selectService(argv: readonly string[], env: NodeJS.ProcessEnv): { service?: ServiceName; problem?: string } {
    const requested = argv[2] ?? env.SERVICE;
    if (requested === undefined || requested === "") {
        return { problem: `no service named; pass one of ${SERVICES.join(", ")} as the first argument or in SERVICE` };
    }
    if (!(SERVICES as readonly string[]).includes(requested)) {
        return { problem: `unknown service ${JSON.stringify(requested)}; use one of ${SERVICES.join(", ")}` };
    }
    return { service: requested as ServiceName };
}

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
    const { service, problem } = selectService(argv, env);
    if (service === undefined) {
        throw new Error(problem);
    }
    const main = await MAINS[service]();
    await main(env);
}

if (require.main === module) {
    run(process.argv, process.env).catch((err: unknown) => {
        process.stderr.write(`${JSON.stringify({ severity: "ERROR", message: String((err as Error)?.message ?? err) })}\n`);
        process.exit(1);
    });
}

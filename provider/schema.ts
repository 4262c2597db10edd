/**
 * `npm run -s schema`: prints the package schema the component provider serves (what `pulumi package add`
 * turns into SDKs), as indented JSON on stdout.
 */
import { createComponentProvider } from "./index";

createComponentProvider()
    .getSchema()
    .then((schema) => process.stdout.write(`${JSON.stringify(JSON.parse(schema), null, 2)}\n`))
    .catch((err: unknown) => {
        process.stderr.write(`error: the component schema could not be generated: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(2);
    });

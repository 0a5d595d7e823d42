// Run by Node, Deno and Bun against the packed package: prints the smoke result as JSON.
import * as nb from "nabla";
import { smoke } from "./train.mjs";

console.log(JSON.stringify(await smoke(nb)));

// A web page's script: the smoke-and-train routine every runtime runs, its result left
// on the page for the test to read.
import * as nb from "nabla";
import { smoke } from "./train.mjs";

globalThis.smokeResult = smoke(nb).catch((e) => ({ failed: String(e?.stack ?? e) }));

// A Cloudflare Worker (run by workerd) that trains on a request and returns the result.
import * as nb from "nabla";
import { smoke } from "./train.mjs";

export default {
  async fetch() {
    return Response.json(await smoke(nb));
  },
};

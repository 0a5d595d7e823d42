// Typed from the outside: a consumer project that installed the packed package compiles
// against the published .d.ts with `strict` (and the published .d.ts itself is checked:
// skipLibCheck off), as a Node user (NodeNext) and as a browser user with a bundler; and
// README's TypeScript examples compile and run.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { packedProject } from "../runtimes/project.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const TSC = join(here, "..", "node_modules", "typescript", "bin", "tsc");
let project = "";

beforeAll(() => {
  project = packedProject("nabla-types-");
  cpSync(join(here, "consumer", "app.ts"), join(project, "app.ts"));
  // @types/node (and its undici-types) for the Node configuration, as a Node user has them.
  const types = realpathSync(join(here, "..", "node_modules", "@types", "node"));
  cpSync(types, join(project, "node_modules", "@types", "node"), { recursive: true, dereference: true });
  cpSync(join(types, "..", "..", "undici-types"), join(project, "node_modules", "undici-types"), { recursive: true, dereference: true });
}, 60_000);

const strict = { strict: true, skipLibCheck: false, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, target: "ES2022", noEmit: true };

function tsc(name: string, compilerOptions: object, files: string[]): string {
  writeFileSync(join(project, `${name}.json`), JSON.stringify({ compilerOptions, files }));
  try {
    return execFileSync(process.execPath, [TSC, "-p", `${name}.json`], { cwd: project, encoding: "utf8" });
  } catch (e) {
    throw new Error(`tsc -p ${name}.json failed:\n${(e as { stdout: string }).stdout}`);
  }
}

/** README's ```ts blocks, in order, as one program: imports first, each block in its own scope. */
function readmeProgram(): { source: string; blocks: number } {
  const readme = readFileSync(join(here, "..", "..", "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const imports = blocks.flatMap((b) => b.split("\n").filter((l) => l.startsWith("import ")));
  const bodies = blocks.map((b, i) => `// README block ${i + 1}\n{\n${b.split("\n").filter((l) => !l.startsWith("import ")).join("\n")}}\n`);
  return { source: [...new Set(imports), ...bodies, "console.log('README examples ran');"].join("\n"), blocks: blocks.length };
}

describe("types, as a TypeScript user gets them", () => {
  it("a strict consumer project compiles as a Node user (NodeNext, @types/node)", () => {
    tsc("tsconfig.node", { ...strict, module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "ESNext.Disposable"], types: ["node"] }, ["app.ts"]);
  });

  it("a strict consumer project compiles as a browser user with a bundler (DOM, no Node types)", () => {
    tsc("tsconfig.browser", { ...strict, module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM", "ESNext.Disposable"], types: [] }, ["app.ts"]);
  });

  it("the checks have teeth: a wrong type is an error", () => {
    writeFileSync(join(project, "wrong.ts"), `import * as nb from "nabla";\nconst n: string = nb.losses.mse()(nb.zeros([1]), nb.zeros([1]));\n`);
    expect(() => tsc("tsconfig.wrong", { ...strict, module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"], types: ["node"] }, ["wrong.ts"])).toThrow(
      /wrong\.ts\(2,7\): error TS2322: Type 'number' is not assignable to type 'string'/,
    );
  });

  it("README's TypeScript examples compile (strict) and run in Node", () => {
    const { source, blocks } = readmeProgram();
    expect(blocks).toBeGreaterThanOrEqual(3);
    writeFileSync(join(project, "readme.ts"), source);
    tsc("tsconfig.readme", { ...strict, noEmit: false, outDir: "out", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "ESNext.Disposable"], types: ["node"] }, ["readme.ts"]);
    const out = execFileSync(process.execPath, [join(project, "out", "readme.js")], { cwd: project, encoding: "utf8" });
    expect(out).toContain("README examples ran");
  }, 120_000);
});

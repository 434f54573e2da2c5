// Builds web/dist from web/src: one bundled, minified script (the generated client and
// openapi-fetch included), the page and its style sheet copied as they are. The output depends on
// the sources and the locked versions only, so CI can rebuild it and compare with what is
// committed (the gateway compiles web/dist into its binary).
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const out = new URL("./dist/", import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  legalComments: "none",
  outfile: new URL("./app.js", out).pathname,
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) {
  await copyFile(new URL(`./src/${file}`, import.meta.url), new URL(file, out));
}

/** The library a benchmark script measures: the compiled tree, or a variant directory given on the command line. */
import { pathToFileURL } from "node:url"

export type Library = typeof import("effect-session")

/** `srcDir`: a directory holding a compiled `index.js` of the library (e.g. a patched copy). */
export const loadLibrary = async (srcDir: string | undefined): Promise<Library> =>
  srcDir === undefined ? await import("effect-session") : await import(pathToFileURL(`${srcDir}/index.js`).href)

import { defineConfig } from "vite";

// A static build (dist/) any web server can serve; the page reads its RPC URL and index from
// the query string (the local node by default).
export default defineConfig({
  base: "./",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 600 },
});

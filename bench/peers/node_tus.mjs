// @tus/server + @tus/file-store on 127.0.0.1, storing to a local directory (bench/upload's peer).
// PORT and DATA_DIR come from the environment; the upload path is /files.
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";

const host = "127.0.0.1";
const port = Number(process.env.PORT);
const directory = process.env.DATA_DIR;
if (!port || !directory) {
  console.error("set PORT and DATA_DIR");
  process.exit(2);
}
const server = new Server({ path: "/files", datastore: new FileStore({ directory }) });
server.listen({ host, port }, () => console.log(`@tus/server on http://${host}:${port}/files`));

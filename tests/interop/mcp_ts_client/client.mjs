// The official MCP TypeScript SDK's client, driven by a Python test over stdin/stdout.
//
//   node client.mjs MCP_URL CALLBACK MODE [CLIENT_ID_OR_DOCUMENT_URL]
//
// MODE is pre-registered (the client id given), cimd (the document URL given) or dynamic
// (RFC 7591). When the SDK sends the user to the authorization server, this prints
// `AUTHORIZE <url>` and waits for `CODE <code>` on stdin: the test plays the browser. It
// lists the tools, calls list_photos, calls print_photo (the step-up), waits for the access
// token to expire, calls list_photos again (the refresh), and prints `RESULT <json>`: the
// answers and every request the SDK made.
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [mcpUrl, callback, mode, named] = process.argv.slice(2);
const waitSeconds = Number(process.env.TOKEN_WAIT || "0"); // until the access token expired
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const traffic = [];

async function recordingFetch(url, init = {}) {
  const body = typeof init.body === "string" ? init.body : init.body ? String(init.body) : "";
  traffic.push({ method: init.method || "GET", url: String(url), body });
  return fetch(url, init);
}

class Provider {
  constructor() {
    this.saved = { tokens: undefined, verifier: undefined };
    this.client = mode === "pre-registered" ? { client_id: named } : undefined;
    if (mode === "cimd") this.clientMetadataUrl = named;
    this.pendingCode = undefined;
  }
  get redirectUrl() { return callback; }
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK test client",
      redirect_uris: [callback],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
  codeVerifier() { return this.saved.verifier; }
  async redirectToAuthorization(url) {
    process.stdout.write(`AUTHORIZE ${url.href}\n`);
    const { value } = await lines.next();
    this.pendingCode = String(value).replace(/^CODE /, "");
  }
}

const provider = new Provider();
let transport;
let client;

// The code the user brought back, exchanged for tokens (the SDK's finishAuth).
async function finish(error) {
  if (!(error instanceof UnauthorizedError) || provider.pendingCode === undefined) throw error;
  const code = provider.pendingCode;
  provider.pendingCode = undefined;
  await transport.finishAuth(code);
}

// Connect; when the SDK sent the user to authorize, finish and connect again on a new
// transport (a started transport cannot be started twice).
async function connect() {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (client) await client.close().catch(() => {}); // the one a step-up replaces
    transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
      authProvider: provider,
      fetch: recordingFetch,
    });
    client = new Client({ name: "valetkey-interop", version: "1.0.0" });
    try {
      await client.connect(transport);
      return;
    } catch (error) {
      await finish(error);
    }
  }
  throw new Error("no connection after three authorizations");
}

// An operation that may send the user to authorize (a step-up): finish, then try again.
async function authorized(operation) {
  try {
    return await operation();
  } catch (error) {
    await finish(error);
    return await operation();
  }
}

// print_photo's step-up. On a 403 insufficient_scope this SDK version refreshes the token
// when it holds a refresh token, and a refresh cannot widen the scope (RFC 6749 §6), so a
// strict authorization server keeps it as it was and the SDK gives up ("403 after trying
// upscoping"). The app then drops its refresh token and connects again: the SDK's next
// upscoping is a new authorization with the scope the server asked for.
async function steppingUp(operation) {
  try {
    return await authorized(operation);
  } catch (error) {
    if (!String(error).includes("after trying upscoping")) throw error;
    stepUpsByReauthorizing += 1;
    provider.saved.tokens = { ...provider.saved.tokens, refresh_token: undefined };
    await connect();
    return await authorized(operation);
  }
}
let stepUpsByReauthorizing = 0;

const text = (result) => (result.content[0] && result.content[0].text) || "";
const answers = [];
try {
  await connect();
  const tools = await authorized(() => client.listTools());
  answers.push(tools.tools.map((t) => t.name).join(","));
  answers.push(text(await authorized(() => client.callTool({ name: "list_photos", arguments: {} }))));
  answers.push(
    text(await steppingUp(() => client.callTool({ name: "print_photo", arguments: { photo_id: "p1" } })))
  );
  await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  answers.push(text(await authorized(() => client.callTool({ name: "list_photos", arguments: {} }))));
  process.stdout.write(
    `RESULT ${JSON.stringify({
      answers,
      traffic,
      tokens: provider.saved.tokens,
      client: provider.client,
      stepUpsByReauthorizing,
    })}\n`
  );
} catch (error) {
  process.stdout.write(`FAILED ${JSON.stringify({ error: String(error && error.stack || error), traffic })}\n`);
  process.exitCode = 1;
} finally {
  if (client) await client.close().catch(() => {});
  process.exit(); // nothing of the SDK's may keep the process alive once the report is out
}

// A real OpenID provider (node-oidc-provider) on loopback for tests/oidc: `node provider.mjs PORT CALLBACK LOGOUT`.
//
// One confidential client, "samverkan", for the app under test. Sign-in is the provider's development
// interaction (any login name, any password) and the login name is the account's `sub`; only the accounts
// below exist, so an unknown name gets no id_token. Test only: development keys, no persistence.
import { readFileSync } from "node:fs";

import Provider from "oidc-provider";

const [port, callback, afterLogout] = process.argv.slice(2);
if (!port || !callback || !afterLogout) {
  console.error("usage: node provider.mjs PORT CALLBACK_URL POST_LOGOUT_URL");
  process.exit(2);
}

const ACCOUNTS = {
  "siths-staff": { email: "staff@kommun.example", name: "Sam Personal" },
  "siths-nobody": { email: "nobody@kommun.example", name: "Ingen Medlem" },
};

// The signing key comes from the test (PROVIDER_JWKS_FILE), so it can also make expired or wrong-audience
// tokens that carry a valid signature.
const jwks = process.env.PROVIDER_JWKS_FILE ? JSON.parse(readFileSync(process.env.PROVIDER_JWKS_FILE, "utf8")) : undefined;

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "samverkan",
      client_secret: "samverkan-test-secret-0123456789abcdef",
      redirect_uris: [callback],
      post_logout_redirect_uris: [afterLogout],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  async findAccount(ctx, sub) {
    const account = ACCOUNTS[sub];
    if (!account) {
      return undefined;
    }
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ["samverkan-test-only-cookie-key"] },
  ...(jwks ? { jwks } : {}),
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Session: 600, Interaction: 600, Grant: 600 },
});
provider.proxy = false;

const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

/** EZROUTER_HTTP_AUTH → its Authenticator. */
import { byokAuthenticator, noAuthenticator, type AuthContext, type Authenticator } from './auth.js';
import { loadOAuthAuthenticator } from './oauth.js';
import { loadTokensAuthenticator } from './tokens.js';

/** The authenticator for the configured mode; a bad tokens file is a ConfigError. */
export async function createAuthenticator(ctx: AuthContext & { tokensPollMs?: number }): Promise<Authenticator> {
  switch (ctx.http.auth) {
    case 'tokens':
      return loadTokensAuthenticator(ctx);
    case 'byok':
      return byokAuthenticator();
    case 'none':
      return noAuthenticator(ctx.serverKey);
    case 'oauth':
      return loadOAuthAuthenticator(ctx);
  }
}

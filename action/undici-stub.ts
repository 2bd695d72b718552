/**
 * Stands in for `undici` in the Action bundle. @actions/http-client imports undici only for
 * `getAgentDispatcher()` (a proxy helper for fetch-based clients, which pgferry never calls), but
 * loading undici installs its own Agent as the process-wide fetch dispatcher: Node's built-in fetch
 * then ran on a second, different undici whose HTTP/1 parser crashed (`assert(!this.paused)`) when
 * an HTTP/1.0 server closed the connection mid-body. Every request of the bundle goes through
 * node:http/https (pgferry's downloads, the AWS SDK, @actions/*), so undici is left out entirely.
 */
export class ProxyAgent {
  constructor() {
    throw new Error('undici is not part of the pgferry Action bundle; its HTTP requests use node:http');
  }
}

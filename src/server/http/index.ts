export {
  createHttpHandler,
  isAllowedOrigin,
  isLoopbackHostHeader,
  type HttpHandler,
  type HttpHandlerOptions,
  type HttpRequest,
  type HttpResponse,
} from './http-handler.js';
export {
  checkListenAddress,
  isLoopbackHost,
  startHttpServer,
  type HttpServerOptions,
  type RunningHttpServer,
} from './http-server.js';
export { withRequestLog } from './request-log.js';

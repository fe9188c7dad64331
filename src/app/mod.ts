/**
 * Applications as values: {@linkcode defineApp} declares one (message
 * types, actors by name, fixed routes, lifecycle, report), {@linkcode param}
 * its command-line parameters.
 *
 * @module
 */
export { defineApp } from "./app.ts";
export type {
  ActorDecl,
  ActorFactory,
  ActorInstances,
  ActorOf,
  ActorSpec,
  AnyApp,
  App,
  AppEnv,
  AppOptions,
  AppReport,
  FixedRoute,
  Lifecycle,
  MergeInfo,
  SetupEnv,
} from "./app.ts";
export { AppError } from "./app_error.ts";
export type { AppErrorCode, AppErrorOptions } from "./app_error.ts";
export { defaultParams, kebabCase, param, paramArgs } from "./param.ts";
export type {
  Built,
  NumberParamOptions,
  Param,
  ParamBuilders,
  ParamKind,
  ParamOptions,
  Params,
  ParamValues,
  PathAccess,
  PathParamOptions,
} from "./param.ts";

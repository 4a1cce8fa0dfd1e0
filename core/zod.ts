// zod/mini for everything that runs in a Lambda: the functional API tree-shakes to a few
// KB where classic zod is ~440 KB in every bundle. zod/mini ships no messages, so the
// English ones are loaded here, once, before any schema parses (every schema module
// imports z from here). Import as a namespace (`import * as z`): a named re-export of
// zod's own `z` object would defeat tree-shaking.
import { config, int, number, positive } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';

/** Classic zod's `.int().positive()`, the shape most config numbers take. */
export const positiveInt = () => int().check(positive());
/** Classic zod's `.positive()`. */
export const positiveNumber = () => number().check(positive());

/**
 * The app of a Nexmark run on several threads (`--parallelism N`): Sluice's worker threads load
 * the module that builds the app again, so this is that module. The bench's main thread builds
 * the same app in run.ts and names this file as the threads' entry; each thread builds the
 * query's pipeline from the settings the main thread left in its environment and runs its share
 * of the tasks. JSON values only: an object table (--codec object) lives in one thread.
 */
import { Sluice } from '../../src/index.ts';
import { codecsFor } from './codecs.ts';
import { queryNamed } from './queries/index.ts';
import { SETTINGS_VARIABLE, type ThreadsAppSettings } from './run.ts';

const text = process.env[SETTINGS_VARIABLE];
if (text === undefined) throw new Error(`threads-app.ts is the entry of the bench's worker threads; ${SETTINGS_VARIABLE} is not set`);
const settings = JSON.parse(text) as ThreadsAppSettings;
const app = new Sluice({ name: settings.name, dataDir: settings.dataDir, guarantee: settings.guarantee });
queryNamed(settings.query).sluice(app, codecsFor('json', []));
await app.run({ bounded: true, ...(settings.batchSize === undefined ? {} : { batchSize: settings.batchSize }) });

/**
 * The entry of an app's worker thread (threads.ts): loads the module that builds the app again,
 * here, as the main thread loaded it (through `sluice run`'s loader, or as Node imports it),
 * under a launcher with the main thread's run options (`--kafka`, say); its `app.run()`
 * finds this thread's place in the run and runs the thread's tasks. Signals are the main
 * thread's: it stops the threads through their ports.
 */
import { pathToFileURL } from 'node:url';
import { importPipeline } from './cli/pipeline-loader.ts';
import { setLauncher } from './sluice.ts';
import { threadEntry } from './runtime/threads.ts';

const thread = threadEntry();
if (thread === undefined) throw new Error('thread-entry.ts runs in a worker thread started by runOnThreads');
setLauncher({ runOptions: thread.runOptions, started: () => () => {} });
if (thread.plainImport) await import(pathToFileURL(thread.entry).href);
else await importPipeline(thread.entry);

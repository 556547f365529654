// `npx tsx dgkd/train.ts …`, the README's command: the entry point. The command line itself is main.ts.
import { runCommandLine } from './main.ts';

runCommandLine(process.argv.slice(2));

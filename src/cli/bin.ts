#!/usr/bin/env node
// Entry point: `mailhealth …` (bin/mailhealth.js runs the compiled copy; `npm start` runs this through tsx).
import { main, reportError } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = reportError(e);
  },
);

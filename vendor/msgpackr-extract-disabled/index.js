// msgpackr wraps require('msgpackr-extract') in try/catch and falls back to pure JavaScript.
throw new Error('msgpackr-extract: native acceleration is not installed');

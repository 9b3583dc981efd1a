"""The engine that hears: the recording decoded (``audio``), transcribed offline by Whisper
(``transcribe``, weights from registry packages: ``models``) and every word re-aligned to the
sound by pocketsphinx (``align``, with pronunciations from espeak-ng: ``g2p``). It also
listens to a stretch for the decision (``align.fit``, ``align.word_fits``). Heavy: numpy,
CTranslate2, pocketsphinx; imported only by the processes that run jobs."""

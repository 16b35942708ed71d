"""Local fakes of the vendors (OpenAI, ElevenLabs, Deepgram) speaking their real wire protocols, with fault switches."""

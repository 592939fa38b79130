#!/usr/bin/env bash
# The quick-start demo: install, index free music from Debian, identify degraded clips of it,
# then scan a small demo episode made from it and print its soundtrack.
# Everything it downloads or makes goes to $SOUNDTRACK_DEMO (default ~/.cache/soundtrack-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
DEMO=${SOUNDTRACK_DEMO:-$HOME/.cache/soundtrack-demo}
LIB="$DEMO/library"
mkdir -p "$DEMO/debs" "$DEMO/music" "$DEMO/clips"

echo "== 1. free music: Debian packages asc-music and singularity-music"
for pkg in asc-music singularity-music; do
  ls "$DEMO"/debs/${pkg}_*.deb >/dev/null 2>&1 || (cd "$DEMO/debs" && apt-get download -q "$pkg")
  dpkg-deb -x "$DEMO"/debs/${pkg}_*.deb "$DEMO/music"
done

echo "== 2. index it (soundtrack add)"
soundtrack add "$DEMO/music" --library "$LIB" -j 2 || true   # the package has a few odd files: reported, skipped

echo "== 3. make clips the way viewers record them"
mapfile -t songs < <(find "$DEMO/music" -name '*.mp3' -o -name '*.ogg' | sort | head -3)
espeak-ng -w "$DEMO/clips/voice.wav" "Wait, I know this song. It was playing when they met in the diner, remember?"
i=0
for song in "${songs[@]}"; do
  i=$((i + 1)); start=$((30 + 17 * i))
  ffmpeg -v error -y -ss "$start" -t 5 -i "$song" -ac 1 -ar 22050 "$DEMO/clips/song$i-clean.wav"
  # through dialogue: speech 10 dB louder than the music
  sox -q -m -v 0.3 "$DEMO/clips/song$i-clean.wav" -v 1.0 "$DEMO/clips/voice.wav" "$DEMO/clips/song$i-dialogue.wav" trim 0 5
  # a phone in a room: reverb, 300-3400 Hz, noise, 16 kbps MP3
  sox -q "$DEMO/clips/song$i-clean.wav" -r 8000 "$DEMO/clips/tmp.wav" reverb 40 sinc 300-3400
  ffmpeg -v error -y -i "$DEMO/clips/tmp.wav" -b:a 16k "$DEMO/clips/song$i-phone.mp3"
  echo "   song$i = $(basename "$song") from ${start}s"
done
rm -f "$DEMO/clips/tmp.wav"
ffmpeg -v error -y -f lavfi -i "anoisesrc=d=5:c=pink:a=0.1" "$DEMO/clips/not-music.wav"

echo "== 4. identify them (soundtrack identify)"
soundtrack identify "$DEMO"/clips/song*-*.wav "$DEMO"/clips/song*-phone.mp3 "$DEMO/clips/not-music.wav" --library "$LIB"
soundtrack stats --library "$LIB"

echo "== 5. a demo episode: dialogue, a full-volume song, a song under dialogue, a short sting"
E="$DEMO/episode"; mkdir -p "$E"
cut() { ffmpeg -v error -y -ss "$2" -t "$3" -i "$1" -ac 1 -ar 22050 "$4"; }
espeak-ng -w "$E/talk1.wav" "So this is where you grew up. It is smaller than I imagined. Do you still have the piano?"
espeak-ng -w "$E/talk2.wav" "Listen. I never told you why I left that night. I was scared, and the music was so loud."
cut "${songs[0]}" 20 30 "$E/song-a.wav"
cut "${songs[1]}" 60 25 "$E/song-b.wav"
cut "${songs[2]}" 5 8 "$E/song-c.wav"
sox -q -n -r 22050 -c 1 "$E/pause.wav" trim 0 2
sox -q "$E/talk2.wav" "$E/pause.wav" "$E/talk1.wav" "$E/pause.wav" "$E/talk2.wav" "$E/talk-bed.wav"
# the song at 0.1 (about 0.017 RMS) under speech at about 0.08 RMS: some 14 dB under the dialogue
sox -q -m -v 0.1 "$E/song-b.wav" "$E/talk-bed.wav" "$E/under-dialogue.wav" trim 0 25
sox -q "$E/talk1.wav" "$E/pause.wav" "$E/song-a.wav" "$E/talk2.wav" "$E/under-dialogue.wav" "$E/pause.wav" "$E/song-c.wav" "$E/talk1.wav" "$E/episode.wav"
ffmpeg -v error -y -f lavfi -i color=c=black:s=320x240:r=25 -i "$E/episode.wav" -shortest -c:v libx264 -c:a aac "$E/S01E01.mkv"

echo "== 6. its soundtrack (soundtrack scan)"
soundtrack scan "$E/S01E01.mkv" --library "$LIB" --csv "$E/S01E01.csv" --plot "$E/S01E01.png"
echo "cue sheet: $E/S01E01.csv   timeline: $E/S01E01.png"

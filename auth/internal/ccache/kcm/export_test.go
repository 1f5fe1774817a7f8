package kcm

// FrameReply frames a reply as a daemon sends it.
var FrameReply = frameReply

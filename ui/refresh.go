package ui

import "time"

// frameBudget is the least time between two refreshes of the window: thirty a second at
// most, which is what a diagram needs to move smoothly, whatever the rate of messages.
const frameBudget = time.Second / 30

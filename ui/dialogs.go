package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// shownDialog is a dialog the lab has open, with what Enter does in it.
type shownDialog struct {
	d dialog.Dialog
	// enter answers the dialog as its default button does; nil closes it as Esc does.
	enter func()
}

// show opens d and lets the keyboard answer it: Esc closes it as Cancel or Close does,
// Enter presses its default button (enter, or Close when it has only that one). Fyne's
// dialogs take no keys of their own.
func (l *lab) show(d dialog.Dialog, enter func()) {
	entry := &shownDialog{d: d, enter: enter}
	l.dialogs = append(l.dialogs, entry)
	d.SetOnClosed(func() {
		for i, e := range l.dialogs {
			if e == entry {
				l.dialogs = append(l.dialogs[:i], l.dialogs[i+1:]...)
				break
			}
		}
	})
	d.Show()
}

// dialogKey answers the newest open dialog with Esc or Enter, and reports whether the key
// went to one.
func (l *lab) dialogKey(ev *fyne.KeyEvent) bool {
	if len(l.dialogs) == 0 {
		return false
	}
	top := l.dialogs[len(l.dialogs)-1]
	switch ev.Name {
	case fyne.KeyEscape:
		top.d.Hide()
	case fyne.KeyReturn, fyne.KeyEnter:
		if top.enter != nil {
			top.enter()
		} else {
			top.d.Hide()
		}
	default:
		return false
	}
	return true
}

// fileDialogSize is the size of the file dialogs: Fyne's own is a few rows high, and it
// fits a 1024x700 window.
var fileDialogSize = fyne.NewSize(800, 560)

// info shows a message with a Close button.
func (l *lab) info(title, message string) {
	l.lastInfo = title + ": " + message
	l.show(dialog.NewInformation(title, message, l.win), nil)
}

// ask shows a question with Yes and No; fn runs on Yes (or Enter).
func (l *lab) ask(title, message string, fn func()) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			fn()
		}
	}, l.win)
	l.show(d, d.Confirm)
}

// custom shows content with one button that closes it.
func (l *lab) custom(title, dismiss string, content fyne.CanvasObject, size fyne.Size) {
	d := dialog.NewCustom(title, dismiss, content, l.win)
	if !size.IsZero() {
		d.Resize(size)
	}
	l.show(d, nil)
}

// showError shows err in a dialog titled with what it means for the user.
func (l *lab) showError(title string, err error) {
	l.lastError = title + ": " + err.Error()
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	content := container.NewBorder(nil, nil, widget.NewIcon(theme.ErrorIcon()), nil, msg)
	l.custom(title, "OK", content, fyne.NewSize(520, 200))
}

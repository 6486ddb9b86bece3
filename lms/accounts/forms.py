"""Forms for signing in, passwords and the second factor."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
)

from lms.platform.forms import Form


class SignInForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class SecondFactorForm(Form):
    """A code from the authenticator app; a recovery code is accepted in the same box."""

    code = StringField(
        "Code from your authenticator app",
        description="The 6 digits the app shows now for Tutor Endorsement Platform.",
        validators=[DataRequired("Enter the code"), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "spellcheck": "false", "autocapitalize": "none", "class": "width-16"},
    )


class RecoveryCodeForm(SecondFactorForm):
    code = StringField(
        "Recovery code",
        description="One of the ten codes you saved when you set up two-factor sign-in, for "
                    "example abcd-efgh-jk. Each works once.",
        validators=[DataRequired("Enter a recovery code"), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none",
                   "class": "width-16"},
    )


class CurrentCodeForm(SecondFactorForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired("Enter a code from your authenticator app"), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none", "class": "width-16"},
    )


class RecoveryCodesSavedForm(Form):
    saved = BooleanField("I have saved these recovery codes somewhere safe",
                         validators=[DataRequired("Confirm that you have saved the recovery "
                                                  "codes")])


class ForgotPasswordForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address")])


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
        validators=[DataRequired("Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired("Enter the new password again"),
                    EqualTo("password", "The two passwords do not match")],
    )


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")]
    )

